// Command-line building and sudo refusal detection: what reaches the remote shell.
#include <gtest/gtest.h>

#include "transport/remote_command.hpp"

namespace kbz::transport {
namespace {

TEST(TransportRemoteCommand, ShellQuoteMakesOneWord) {
  EXPECT_EQ(shell_quote("plain"), "'plain'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$(rm -rf /) `x` \"y\""), "'$(rm -rf /) `x` \"y\"'");
}

TEST(TransportRemoteCommand, JoinCommandLikeSsh) {
  EXPECT_EQ(join_command({"ls", "-l", "/"}), "ls -l /");
  EXPECT_EQ(join_command({"echo a; echo b"}), "echo a; echo b");
  EXPECT_EQ(join_command({}), "");
}

TEST(TransportRemoteCommand, SudoOnlyForRootCommandsOfNonRootUsers) {
  EXPECT_EQ(with_privilege("id -u", Privilege::Root, "root"), "id -u");
  EXPECT_EQ(with_privilege("id -u", Privilege::AsUser, "deploy"), "id -u");
  EXPECT_EQ(with_privilege("echo 'a b' | wc -c", Privilege::Root, "deploy"),
            "sudo -n -- env SSH_CONNECTION=\"$SSH_CONNECTION\" sh -c 'echo '\\''a b'\\'' | wc -c'");
  EXPECT_EQ(with_privilege("sh -s", Privilege::Root, "deploy"),
            "sudo -n -- env SSH_CONNECTION=\"$SSH_CONNECTION\" sh -s");
  EXPECT_TRUE(needs_sudo(Privilege::Root, "deploy"));
  EXPECT_FALSE(needs_sudo(Privilege::Root, "root"));
}

TEST(TransportRemoteCommand, SudoRefusalIsRecognisedFromSudosOwnWords) {
  ExecResult no_rule{1, "", "sudo: a password is required\n", Millis(5)};
  EXPECT_TRUE(sudo_refused(no_rule));
  ExecResult not_in_file{1, "", "kbznosudo is not in the sudoers file.  This incident will be reported.\n",
                         Millis(5)};
  EXPECT_TRUE(sudo_refused(not_in_file));
  ExecResult command_failed{1, "", "grep: /etc/x: No such file or directory\n", Millis(5)};
  EXPECT_FALSE(sudo_refused(command_failed));
  ExecResult other_status{2, "", "sudo: a password is required\n", Millis(5)};
  EXPECT_FALSE(sudo_refused(other_status)) << "sudo exits 1 when it refuses";
  EXPECT_EQ(sudo_refused_message("deploy", "redis-01 (10.0.0.10)")
                .rfind("user deploy has no passwordless sudo on redis-01 (10.0.0.10)", 0),
            0u);
}

TEST(TransportRemoteCommand, DescribeNamesHostAddressAndOddPort) {
  Host h;
  h.hostname = "db-master-01";
  h.address = "10.0.0.120";
  EXPECT_EQ(describe(h), "db-master-01 (10.0.0.120)");
  h.port = 2222;
  EXPECT_EQ(describe(h), "db-master-01 (10.0.0.120:2222)");
}

}  // namespace
}  // namespace kbz::transport
