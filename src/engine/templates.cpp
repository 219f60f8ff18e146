#include "kbz/engine/templates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <kainjow/mustache.hpp>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "kbz/core/secret.hpp"
#include "kbz/engine/module.hpp"

namespace kbz {
namespace mu = kainjow::mustache;
namespace {

// settings.raw holds "a.b.c" -> value; mustache resolves dotted names by walking objects, so nest them.
struct Tree {
  std::string value;
  std::map<std::string, Tree> kids;
};

// A key with both a value and children ("dns_servers" = "a b", "dns_servers.0" = "a") keeps its value: the
// whole list as one string is what a config line needs; {{settings.dns_servers.0}} is rarely useful.
// An empty value is false for sections ({{#settings.x}}...{{/settings.x}} renders only when x is set) and
// still renders as "" as a variable.
mu::data to_data(const Tree& t) {
  if (t.kids.empty() && t.value.empty()) return mu::data(false);
  if (t.kids.empty() || !t.value.empty()) return mu::data(t.value);
  mu::data d;
  for (const auto& [k, child] : t.kids) d.set(k, to_data(child));
  return d;
}

mu::data nested(const std::map<std::string, std::string>& flat) {
  Tree root;
  for (const auto& [dotted, value] : flat) {
    Tree* node = &root;
    size_t start = 0;
    for (size_t dot; (dot = dotted.find('.', start)) != std::string::npos; start = dot + 1)
      node = &node->kids[dotted.substr(start, dot - start)];
    node->kids[dotted.substr(start)].value = value;
  }
  return to_data(root);
}

mu::data host_object(const Host& h) {
  mu::data d;
  d.set("hostname", h.hostname);
  d.set("private_ip", h.private_ip);
  d.set("public_ip", h.public_ip);
  d.set("role", h.role);
  d.set("subrole", h.subrole);
  d.set("pool", h.pool);
  d.set("fqdn", h.fqdn);
  d.set("user", h.user);
  d.set("env", h.env);
  return d;
}

mu::data facts_data(const TemplateContext& ctx);
void add_host_lists(const TemplateContext& ctx, mu::data& root);

// Only the roots the text names: a tag can only reach a root by its name, so a root whose name is not in the
// text is never looked up (sections resolve inner names against their item first, then the same roots).
// Building every root for every render was most of a no-op re-apply's client CPU (profile in
// bench/RESULTS.md): the host lists alone are O(hosts) per render, O(hosts²) per run.
mu::data build_data(const TemplateContext& ctx, std::string_view text) {
  const auto names = [&](std::string_view root) { return text.find(root) != std::string_view::npos; };
  mu::data root;
  if (names("host")) root.set("host", host_object(ctx.host));
  if (names("settings")) root.set("settings", nested(ctx.settings));
  if (names("facts")) root.set("facts", facts_data(ctx));
  if (names("credentials")) {
    mu::data creds;
    for (const auto& [k, v] : ctx.credentials) creds.set(k, v);
    root.set("credentials", creds);
  }
  if (names("hosts")) add_host_lists(ctx, root);
  return root;
}

mu::data facts_data(const TemplateContext& ctx) {
  mu::data facts;
  if (ctx.facts_as_shell_vars) {
    for (const auto& k : fact_names()) facts.set(k, "${KBZ_FACT_" + k + "}");
  } else {
    for (const auto& [k, v] : ctx.facts) facts.set(k, v);
  }
  return facts;
}

void add_host_lists(const TemplateContext& ctx, mu::data& root) {
  mu::data all{mu::data::type::list};
  std::map<std::string, mu::data> by_role, by_subrole;
  // Each item says whether it is the first of ITS list, for separators: {{^first}},{{/first}}{{private_ip}}.
  std::map<std::string, bool> role_seen, subrole_seen;
  for (const auto& h : ctx.all_hosts) {
    mu::data item;
    item.set("hostname", h.hostname);
    item.set("private_ip", h.private_ip);
    // {{^is_self}}...{{/is_self}} leaves out the host being rendered (e.g. the other cluster members).
    item.set("is_self", h.hostname == ctx.host.hostname ? mu::data(mu::data::type::bool_true)
                                                        : mu::data(mu::data::type::bool_false));
    const auto with_first = [&](bool first) {
      mu::data i = item;
      i.set("first", mu::data(first));
      return i;
    };
    all.push_back(with_first(all.is_empty_list()));
    auto [it, _] = by_role.try_emplace(h.role, mu::data::type::list);
    it->second.push_back(with_first(!std::exchange(role_seen[h.role], true)));
    auto [sub, __] = by_subrole.try_emplace(h.subrole, mu::data::type::list);
    sub->second.push_back(with_first(!std::exchange(subrole_seen[h.subrole], true)));
  }
  root.set("hosts", all);
  mu::data roles;
  for (auto& [role, list] : by_role) roles.set(role, list);
  root.set("hosts_by_role", roles);
  // e.g. the Redis bootstrap master: {{#hosts_by_subrole.master}}{{private_ip}}{{/hosts_by_subrole.master}}
  mu::data subroles;
  for (auto& [subrole, list] : by_subrole) subroles.set(subrole, list);
  root.set("hosts_by_subrole", subroles);
}

// Every tag's sigil and name, as the regex \{\{\s*([#^/&{!]?)\s*([A-Za-z0-9_.-]+) would find them scanning
// left to right, by hand: std::regex search over every template for every host (libstdc++ looks its ctype
// facet up for each character class test) was the largest share of a no-op re-apply's client CPU.
std::vector<std::pair<std::string, std::string>> template_tags(std::string_view text) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  const auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  };
  std::vector<std::pair<std::string, std::string>> tags;
  for (size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at)) {
    size_t i = at + 2;
    while (i < text.size() && space(text[i])) ++i;
    std::string sigil;
    if (i < text.size() && std::string_view("#^/&{!").find(text[i]) != std::string_view::npos) {
      sigil = text[i++];
      while (i < text.size() && space(text[i])) ++i;
    }
    const size_t name = i;
    while (i < text.size() && name_char(text[i])) ++i;
    if (i == name) {  // no name here: the search goes on from the next character, as a regex search would
      ++at;
      continue;
    }
    tags.emplace_back(std::move(sigil), std::string(text.substr(name, i - name)));
    at = i;
  }
  return tags;
}

// Names outside sections must resolve; inside sections they are relative to the list item.
Result<void> check_names(const std::string& text, const TemplateContext& ctx, const std::string& name) {
  static const char* kKnownRoots[] = {"host.", "settings.", "facts.", "credentials."};
  int depth = 0;
  for (const auto& [sigil, var] : template_tags(text)) {
    if (sigil == "!") continue;
    if (sigil == "/") {
      --depth;
      continue;
    }
    const bool opens = sigil == "#" || sigil == "^";
    const bool inside_section = depth > 0;
    if (opens) ++depth;
    if (inside_section) continue;  // relative to the section's item: cannot be checked here
    bool rooted = false;
    for (const char* root : kKnownRoots) rooted |= var.starts_with(root);
    if (!rooted) continue;
    const auto dot = var.find('.');
    const std::string root = var.substr(0, dot), rest = var.substr(dot + 1);
    bool known = false;
    if (root == "host") {
      static const std::set<std::string> fields = {"hostname", "private_ip", "public_ip", "role", "subrole",
                                                   "pool",     "fqdn",       "user",      "env"};
      known = fields.contains(rest);
    } else if (root == "settings") {
      known = ctx.settings.contains(rest) ||
              std::any_of(ctx.settings.begin(), ctx.settings.end(),
                          [&](const auto& kv) { return kv.first.starts_with(rest + "."); });
    } else if (root == "facts") {
      known =
          ctx.facts.contains(rest) || (ctx.facts_as_shell_vars && std::ranges::count(fact_names(), rest) > 0);
    } else if (root == "credentials") {
      known = ctx.credentials.contains(rest);
    }
    if (!known) return fail(ErrorKind::Input, fmt::format("{}: unknown name '{}'", name, var));
  }
  return {};
}

Result<std::string> render(const std::string& text, const TemplateContext& ctx, const std::string& name) {
  if (auto ok = check_names(text, ctx, name); !ok) return std::unexpected(ok.error());
  mu::mustache tmpl(text);
  if (!tmpl.is_valid()) return fail(ErrorKind::Input, fmt::format("{}: {}", name, tmpl.error_message()));
  // Config files and shell lines, not HTML: no escaping.
  tmpl.set_custom_escape([](const std::string& s) { return s; });
  std::string out = tmpl.render(build_data(ctx, text));
  if (!tmpl.is_valid()) return fail(ErrorKind::Input, fmt::format("{}: {}", name, tmpl.error_message()));
  return out;
}

}  // namespace

Result<std::string> render_template(const std::string& text, const TemplateContext& ctx,
                                    const std::string& name) {
  return render(text, ctx, name);
}

Result<std::string> render_command(const std::string& text, const TemplateContext& ctx,
                                   const std::string& what) {
  auto out = render(text, ctx, what);
  if (!out) return out;
  if (mask(*out) != *out)
    return fail(ErrorKind::Input, fmt::format("{}: secret would appear in argv (pass it through a file step, "
                                              "not a command)",
                                              what));
  return out;
}

std::string facts_shell_prelude() {
  return "kbz_facts=$(\n" + facts_script() +
         "\n)\n"
         "while IFS= read -r kbz_l; do\n"
         "  kbz_k=${kbz_l%%=*}; kbz_v=${kbz_l#*=}\n"
         "  case \"$kbz_k\" in *[!a-z0-9_]*|'') continue;; esac\n"
         "  eval \"KBZ_FACT_${kbz_k}=\\$kbz_v\"\n"
         "done <<KBZ_FACTS_EOF\n$kbz_facts\nKBZ_FACTS_EOF\n";
}

}  // namespace kbz

namespace kbz {
void render_versions(Module& module, const std::map<std::string, std::string>& settings) {
  TemplateContext ctx;
  ctx.settings = settings;
  for (auto& [name, text] : module.versions)
    if (auto rendered = render_template(text, ctx, "versions." + name)) text = *rendered;
}
}  // namespace kbz
