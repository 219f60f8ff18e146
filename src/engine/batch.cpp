#include "kbz/engine/batch.hpp"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <charconv>

namespace kbz {

std::string new_batch_marker() {
  unsigned char raw[12];
  RAND_bytes(raw, sizeof raw);
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  return "KBZ" + hex;
}

std::string build_batch_script(const std::vector<BatchItem>& items, std::string_view marker,
                               std::string_view prelude) {
  std::string s = "set +e\n";
  if (!prelude.empty()) s += fmt::format("{{\n{}\n}} || exit $?\n", prelude);
  for (const auto& item : items) {
    // A leading newline before END guarantees the marker starts a line; the parser removes exactly that one.
    s += fmt::format(
        "printf '%s BEGIN %s\\n' '{0}' '{1}'\n( {2}\n) </dev/null 2>&1\nprintf '\\n%s END %s %d\\n' '{0}' "
        "'{1}' $?\n",
        marker, item.id, item.command);
  }
  return s;
}

Result<std::vector<BatchOutput>> parse_batch_output(std::string_view text, std::string_view marker,
                                                    const std::vector<BatchItem>& items) {
  std::vector<BatchOutput> out;
  size_t pos = 0;
  for (const auto& item : items) {
    const std::string begin = fmt::format("{} BEGIN {}\n", marker, item.id);
    const size_t b = text.find(begin, pos);
    if (b == std::string_view::npos)
      return fail(ErrorKind::Remote, fmt::format("check batch output ended before '{}'", item.id));
    const size_t body = b + begin.size();
    const std::string end = fmt::format("\n{} END {} ", marker, item.id);
    const size_t e = text.find(end, body);
    if (e == std::string_view::npos)
      return fail(ErrorKind::Remote, fmt::format("check batch output for '{}' is truncated", item.id));
    const size_t code_at = e + end.size();
    const size_t eol = text.find('\n', code_at);
    int code = -1;
    const auto code_text = text.substr(code_at, eol == std::string_view::npos ? text.npos : eol - code_at);
    std::from_chars(code_text.data(), code_text.data() + code_text.size(), code);
    out.push_back(BatchOutput{item.id, code, std::string(text.substr(body, e - body))});
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
  }
  return out;
}

Result<std::vector<BatchOutput>> run_batch(Connection& connection, const std::vector<BatchItem>& items,
                                           Millis timeout, std::string_view prelude) {
  const std::string marker = new_batch_marker();
  // The script goes through stdin, not argv: it can be long, and argv is visible to every local user.
  ExecRequest req{"sh -s", build_batch_script(items, marker, prelude), Privilege::Root, timeout};
  auto res = connection.run(req);
  if (!res) return std::unexpected(res.error());
  if (res->out.find(marker) == std::string::npos && res->exit_status != 0)
    return fail(ErrorKind::Remote, fmt::format("check batch failed (exit {}): {}", res->exit_status,
                                               res->err.empty() ? res->out : res->err));
  return parse_batch_output(res->out, marker, items);
}

}  // namespace kbz
