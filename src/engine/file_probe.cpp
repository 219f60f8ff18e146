#include "kbz/engine/file_probe.hpp"

#include <fmt/format.h>

#include "kbz/core/text.hpp"

namespace kbz {
namespace {
bool is_hex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}
}  // namespace

bool file_probe_takes(const std::string& path) {
  return path.starts_with('/') && path.find_first_of("\\\n$`") == std::string::npos;
}

std::string file_probe_script(const std::vector<std::string>& paths) {
  std::string list;
  for (const auto& p : paths) {
    list += ' ';
    list += shell_quote(p);
  }
  // `--`: a path is never an option. Their exit statuses are not the verdict: the lines are.
  return fmt::format(
      "set --\n"
      "for kbz_p in{}; do [ -f \"$kbz_p\" ] && set -- \"$@\" \"$kbz_p\"; done\n"
      "[ $# -eq 0 ] || {{ sha256sum -- \"$@\"; stat -c '{} %n' -- \"$@\"; }}\n"
      "exit 0",
      list, kFileStatFormat);
}

std::map<std::string, CheckOutput> split_file_probe(const std::string& output,
                                                    const std::vector<std::string>& paths) {
  std::map<std::string, std::string> hash, meta;  // by path
  for (const auto& line : lines_of(output)) {
    // sha256sum: "<64 hex>  <path>"
    if (line.size() > 66 && is_hex64(std::string_view(line).substr(0, 64)) &&
        line.compare(64, 2, "  ") == 0) {
      hash.emplace(line.substr(66), line.substr(0, 64));
      continue;
    }
    // stat: "<mode> <user>:<group> <uid>:<gid> <path>" (names have no spaces; the path may)
    size_t at = 0;
    for (int field = 0; field < 3 && at != std::string::npos; ++field) {
      at = line.find(' ', at);
      if (at != std::string::npos) ++at;
    }
    if (at != std::string::npos && at < line.size() && line[at] == '/' && line[0] >= '0' && line[0] <= '7')
      meta.emplace(line.substr(at), line.substr(0, at - 1));
  }
  std::map<std::string, CheckOutput> out;
  for (const auto& p : paths) {
    const auto h = hash.find(p);
    const auto m = meta.find(p);
    if (h != hash.end() && m != meta.end())
      out[p] = {0, h->second + "  -\n" + m->second + "\n"};
    else if (h == hash.end() && m == meta.end())
      out[p] = {0, "absent\n"};
    else
      out[p] = {1, fmt::format("{} of {} only came back (changed meanwhile, or unreadable): {}",
                               h == hash.end() ? "mode and owner" : "hash", p, tail_lines(output, 3))};
  }
  return out;
}

}  // namespace kbz
