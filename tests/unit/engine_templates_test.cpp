#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kbz/core/secret.hpp"
#include "kbz/core/text.hpp"
#include "kbz/engine/facts.hpp"
#include "kbz/engine/templates.hpp"
#include "kbz/runners/local_connection.hpp"

using namespace kbz;
namespace fs = std::filesystem;

namespace {

TemplateContext sample() {
  TemplateContext ctx;
  ctx.host.hostname = "redis-01";
  ctx.host.private_ip = "10.0.0.11";
  ctx.host.role = "redis";
  ctx.settings = {{"docker.version", "27.5.1"}, {"private_cidr", "10.0.0.0/16"}};
  ctx.facts = {{"os_id", "ubuntu"}};
  Host a, b, c;
  a.hostname = "redis-01";
  a.private_ip = "10.0.0.11";
  a.role = "redis";
  b.hostname = "redis-02";
  b.private_ip = "10.0.0.12";
  b.role = "redis";
  c.hostname = "db-01";
  c.private_ip = "10.0.0.21";
  c.role = "db";
  ctx.all_hosts = {a, b, c};
  return ctx;
}

// Each render builds only the roots its text names (a no-op re-apply's client CPU); a root named only inside
// a section, or only through a longer root's name, still resolves.
TEST(Templates, OnlyTheRootsTheTextNamesAreBuiltAndAllStillResolve) {
  EXPECT_EQ(render_template("plain text\n", sample(), "t").value(), "plain text\n");
  EXPECT_EQ(render_template("{{host.hostname}}", sample(), "t").value(), "redis-01");
  EXPECT_EQ(render_template("{{#hosts_by_role.db}}{{hostname}} {{settings.private_cidr}} {{host.role}}"
                            "{{/hosts_by_role.db}}",
                            sample(), "t")
                .value(),
            "db-01 10.0.0.0/16 redis");
  EXPECT_EQ(render_template("{{#hosts}}{{private_ip}},{{/hosts}}", sample(), "t").value(),
            "10.0.0.11,10.0.0.12,10.0.0.21,");
  EXPECT_EQ(render_template("{{ facts.os_id }}", sample(), "t").value(), "ubuntu");
}

TEST(Templates, HostSettingsFactsAndGroups) {
  auto out = render_template(
      "{{host.hostname}} {{settings.docker.version}} {{settings.private_cidr}} {{facts.os_id}}\n"
      "{{#hosts_by_role.redis}}{{hostname}}={{private_ip}};{{/hosts_by_role.redis}}\n"
      "{{#hosts}}{{hostname}},{{/hosts}}\n",
      sample(), "t.mustache");
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out,
            "redis-01 27.5.1 10.0.0.0/16 "
            "ubuntu\nredis-01=10.0.0.11;redis-02=10.0.0.12;\nredis-01,redis-02,db-01,\n");
}

// An empty setting is false for a section (module 6 renders its migration alias only when an endpoint is
// set) and renders as "" as a variable.
TEST(Templates, AnEmptySettingIsFalseForASection) {
  TemplateContext ctx = sample();
  ctx.settings["m.endpoint"] = "";
  const std::string t =
      "[{{#settings.m.endpoint}}old={{settings.m.endpoint}}{{/settings.m.endpoint}}"
      "{{^settings.m.endpoint}}none{{/settings.m.endpoint}}|{{settings.m.endpoint}}]";
  EXPECT_EQ(render_template(t, ctx, "t").value(), "[none|]");
  ctx.settings["m.endpoint"] = "http://10.0.0.134:9000";
  EXPECT_EQ(render_template(t, ctx, "t").value(), "[old=http://10.0.0.134:9000|http://10.0.0.134:9000]");
}

TEST(Templates, IsSelfLeavesOutTheRenderedHost) {
  auto out = render_template(
      "{{#hosts_by_role.redis}}{{^is_self}}{{private_ip}};{{/is_self}}{{/hosts_by_role.redis}}", sample(),
      "t.mustache");
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "10.0.0.12;");
}

// Every list item knows whether it is the first of its own list: separators without a trailing comma
// (Galera's gcomm:// address, libconfig lists).
TEST(Templates, ListItemsSayWhetherTheyAreFirstOfTheirList) {
  auto out = render_template(
      "gcomm://{{#hosts_by_role.redis}}{{^first}},{{/first}}{{private_ip}}{{/hosts_by_role.redis}}\n"
      "{{#hosts_by_role.db}}{{^first}},{{/first}}{{hostname}}{{/hosts_by_role.db}}\n"
      "{{#hosts}}{{#first}}[{{/first}}{{hostname}} {{/hosts}}\n",
      sample(), "t.mustache");
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "gcomm://10.0.0.11,10.0.0.12\ndb-01\n[redis-01 redis-02 db-01 \n");
}

TEST(Templates, NoHtmlEscaping) {
  auto ctx = sample();
  ctx.settings["x"] = "a&b<c>\"d\"";
  auto out = render_template("{{settings.x}}", ctx, "t");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "a&b<c>\"d\"");
}

TEST(Templates, UnknownNamesAreErrors) {
  auto out = render_template("{{settings.docker.versoin}}", sample(), "docker.conf.mustache");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "docker.conf.mustache: unknown name 'settings.docker.versoin'");
  EXPECT_FALSE(render_template("{{facts.nope}}", sample(), "t"));
  EXPECT_FALSE(render_template("{{credentials.NOPE}}", sample(), "t"));
  EXPECT_FALSE(render_template("{{host.rol}}", sample(), "t"));
  EXPECT_FALSE(render_template("{{#hosts}}", sample(), "t"));  // unclosed section
}

// The tag scanner finds names in every spelling Mustache accepts (spaces, sigils, triple braces) and skips
// comments, section closes and names relative to a section's item.
TEST(Templates, UnknownNamesAreFoundInEveryTagSpelling) {
  for (const char* text : {"{{ settings.nope }}", "{{{settings.nope}}}", "{{& settings.nope}}",
                           "{{#settings.nope}}x{{/settings.nope}}", "{{^ settings.nope}}x{{/settings.nope}}",
                           "{{ }}{{settings.nope}}", "{{{{settings.nope}}}}", "a {{\n\tsettings.nope\n}} b"})
    EXPECT_FALSE(render_template(text, sample(), "t")) << text;
  for (const char* text : {"{{! settings.nope }}", "{{#hosts}}{{settings.nope_inside_is_relative}}{{/hosts}}",
                           "{ {settings.nope}}"})
    EXPECT_TRUE(render_template(text, sample(), "t")) << text;
}

TEST(Templates, CommandsRefuseSecrets) {
  auto ctx = sample();
  ctx.credentials["DB_PASSWORD"] = "Zq8pL2mN4vR6tY1u";
  Masker::global().add("Zq8pL2mN4vR6tY1u");
  auto cmd = render_command("psql -c \"alter role x password '{{credentials.DB_PASSWORD}}'\"", ctx,
                            "step 'db' apply");
  ASSERT_FALSE(cmd);
  EXPECT_EQ(cmd.error().message,
            "step 'db' apply: secret would appear in argv (pass it through a file step, not a command)");
  EXPECT_TRUE(render_command("echo {{host.hostname}}", ctx, "x"));
}

TEST(Templates, FactsAsShellVariablesForChecks) {
  auto ctx = sample();
  ctx.facts.clear();
  ctx.facts_as_shell_vars = true;
  auto out = render_command("systemctl is-active {{facts.ssh_unit}}", ctx, "x");
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "systemctl is-active ${KBZ_FACT_ssh_unit}");
}

TEST(Facts, ParseAndWhen) {
  const Facts f =
      parse_facts("os_id=ubuntu\nos_version_id=24.04\nresolver=resolved\nnoise line\nssh_client_ip=\n");
  EXPECT_EQ(f.at("os_id"), "ubuntu");
  EXPECT_EQ(f.at("ssh_client_ip"), "");
  EXPECT_FALSE(f.contains("noise line"));
  Host h;
  h.role = "k8s";
  EXPECT_TRUE(evaluate_when("", f, h));
  EXPECT_TRUE(evaluate_when("facts.resolver == resolved", f, h));
  EXPECT_FALSE(evaluate_when("facts.resolver != resolved", f, h));
  EXPECT_TRUE(evaluate_when("facts.os_version_id == \"24.04\"", f, h));
  EXPECT_TRUE(evaluate_when("host.role == k8s", f, h));
  EXPECT_TRUE(evaluate_when("host.role != redis", f, h));
  EXPECT_FALSE(evaluate_when("facts.missing == x", f, h));
}

TEST(Facts, ScriptRunsUnderPosixShAndPrintsEveryName) {
  // Real run of the facts script on this machine through /bin/sh (dash on Debian), SSH_CONNECTION set.
  LocalConnection local(Host{});
  auto res =
      local.run({"SSH_CONNECTION='127.0.0.9 5555 127.0.1.1 22'; export SSH_CONNECTION\n" + facts_script(), "",
                 Privilege::AsUser, Millis{20000}});
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->exit_status, 0) << res->err;
  const Facts f = parse_facts(res->out);
  for (const auto& name : fact_names()) EXPECT_TRUE(f.contains(name)) << name;
  EXPECT_EQ(f.at("os_id"), "debian");
  EXPECT_EQ(f.at("ssh_client_ip"), "127.0.0.9");
  // One uname prints both, kernel release first; the hostname is read from /proc: the kernel's own values.
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(f.at("arch"), u.machine);
  EXPECT_EQ(f.at("kernel"), u.release);
  EXPECT_EQ(f.at("hostname"), u.nodename);
  EXPECT_TRUE(f.at("resolver") == "resolved" || f.at("resolver") == "resolvconf" ||
              f.at("resolver") == "static")
      << f.at("resolver");
}

// virt and container are what systemd-detect-virt says, whether read from the per-boot copy in /run or not;
// a copy from another boot is never believed.
TEST(Facts, VirtAndContainerAreSystemdDetectVirtsEvenFromAStaleCopy) {
  LocalConnection local(Host{});
  const auto sh = [&](const std::string& cmd) {
    auto res = local.run({cmd, "", Privilege::AsUser, Millis{20000}});
    EXPECT_TRUE(res) << cmd;
    return res ? *res : ExecResult{};
  };
  const std::string virt(trim(sh("systemd-detect-virt 2>/dev/null").out, " \n"));
  const std::string container =
      sh("systemd-detect-virt --container --quiet 2>/dev/null").exit_status == 0 ? "yes" : "no";
  const std::string boot(trim(sh("cat /proc/sys/kernel/random/boot_id").out, " \n"));
  const fs::path copy = "/run/kbz-install.virt";
  const bool writable = access("/run", W_OK) == 0;
  if (writable)
    std::ofstream(copy) << "another-boot " << (virt == "docker" ? "kvm no" : "docker yes") << "\n";
  for (int run = 0; run < 2; ++run) {  // the first run (re)computes, the second may read the copy
    const Facts f = parse_facts(sh(facts_script()).out);
    EXPECT_EQ(f.at("virt"), virt) << "run " << run;
    EXPECT_EQ(f.at("container"), container) << "run " << run;
  }
  if (writable && !virt.empty()) {
    std::ifstream in(copy);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, boot + " " + virt + " " + container);
  }
}

}  // namespace
