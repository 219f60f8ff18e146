#include "kbz/report/log_archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "kbz/core/time.hpp"

namespace kbz {
namespace fs = std::filesystem;

std::string archive_relative_path(int module, const std::string& started_utc) {
  std::string stamp;
  for (char c : started_utc)
    if (c != '-' && c != ':') stamp += c;  // 20261127T220128Z, like the run logs
  return fmt::format("logs/archive/{}-module{}.tar.gz", stamp, module);
}

namespace {

struct ArchiveCloser {
  void operator()(archive* a) const {
    archive_write_close(a);
    archive_write_free(a);
  }
};

Result<void> add_entry(archive* a, const std::string& name, const std::string& data) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0600);
  archive_entry_set_mtime(e.get(), time(nullptr), 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK ||
      archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
    return fail(ErrorKind::Io, fmt::format("archive entry {}: {}", name, archive_error_string(a)));
  return {};
}

}  // namespace

Result<void> write_log_archive(const fs::path& workdir, const std::string& relative,
                               const std::vector<std::string>& files) {
  const fs::path dest = workdir / relative;
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec)
    return fail(ErrorKind::Io,
                fmt::format("cannot create {}: {}", dest.parent_path().string(), ec.message()));
  const fs::path tmp = dest.string() + fmt::format(".tmp-{}", getpid());
  {
    std::unique_ptr<archive, ArchiveCloser> a(archive_write_new());
    archive_write_add_filter_gzip(a.get());
    archive_write_set_format_pax_restricted(a.get());
    if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK)
      return fail(ErrorKind::Io,
                  fmt::format("cannot write {}: {}", tmp.string(), archive_error_string(a.get())));
    std::string manifest = fmt::format("kbz-install log archive, written {}\n", now_utc_iso());
    for (const auto& rel : files) {
      if (rel.empty()) continue;
      if (fs::path(rel).lexically_normal().string().starts_with("credentials"))
        return fail(ErrorKind::Internal,
                    fmt::format("refusing to archive {}: credentials never leave credentials/", rel));
      std::ifstream in(workdir / rel, std::ios::binary);
      if (!in) {
        manifest += fmt::format("missing  {}\n", rel);
        continue;
      }
      std::stringstream buf;
      buf << in.rdbuf();
      if (auto ok = add_entry(a.get(), rel, buf.str()); !ok) {
        fs::remove(tmp, ec);
        return ok;
      }
      manifest += fmt::format("included {}\n", rel);
    }
    if (auto ok = add_entry(a.get(), "MANIFEST.txt", manifest); !ok) {
      fs::remove(tmp, ec);
      return ok;
    }
  }
  fs::rename(tmp, dest, ec);
  if (ec) return fail(ErrorKind::Io, fmt::format("cannot rename {}: {}", dest.string(), ec.message()));
  return {};
}

}  // namespace kbz
