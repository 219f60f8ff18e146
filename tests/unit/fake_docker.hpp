// A fake `docker` (and a fast `sleep`) put first on PATH, so the engine's container steps run through the
// LOCAL runner without a Docker daemon. A container is a folder $KBZ_FAKE_DOCKER/<name> holding its state and
// labels; every change is appended to $KBZ_FAKE_DOCKER/log ("run NAME", "stop NAME", ...) for order checks.
#pragma once
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace kbz::test {

inline constexpr const char* kFakeDockerScript = R"SH(#!/bin/sh
d=${KBZ_FAKE_DOCKER:?}
case "$1" in
  image) echo sha256:aaaa1111 ;;
  inspect)
    name=$4
    [ -d "$d/$name" ] || { echo "Error: No such object: $name" >&2; exit 1; }
    case "$3" in
      *State.Running*) if [ "$(cat "$d/$name/state")" = running ]; then echo true; else echo false; fi ;;
      *) printf 'state=%s\nspec=%s\nparts=%s\n' "$(cat "$d/$name/state")" "$(cat "$d/$name/spec")" "$(cat "$d/$name/parts")" ;;
    esac ;;
  run)
    shift; name=; spec=; parts=
    while [ $# -gt 0 ]; do
      case "$1" in
        --name) name=$2; shift ;;
        --label) case "$2" in kbz.spec=*) spec=${2#kbz.spec=} ;; kbz.spec.parts=*) parts=${2#kbz.spec.parts=} ;; esac; shift ;;
      esac
      shift
    done
    mkdir "$d/$name" || exit 125
    echo running > "$d/$name/state"; echo "$spec" > "$d/$name/spec"; echo "$parts" > "$d/$name/parts"
    echo "run $name" >> "$d/log"; echo 0123abcd ;;
  stop) echo exited > "$d/$4/state"; echo "stop $4" >> "$d/log" ;;
  rm) rm -r "$d/$2"; echo "rm $2" >> "$d/log" ;;
  start) echo running > "$d/$2/state"; echo "start $2" >> "$d/log" ;;
  logs) echo "fake logs" ;;
  *) echo "fake docker: unsupported: $*" >&2; exit 2 ;;
esac
)SH";

// The container step waits 3 s to see the container still running; polls sleep 1 s. Tests need neither.
inline constexpr const char* kFastSleepScript = "#!/bin/sh\nexec /bin/sleep 0.05\n";

// Installs both scripts under `dir`/bin, points PATH and KBZ_FAKE_DOCKER at them; restores PATH when
// destroyed.
class FakeDocker {
 public:
  explicit FakeDocker(const std::filesystem::path& dir) : state_(dir / "docker") {
    namespace fs = std::filesystem;
    fs::create_directories(dir / "bin");
    fs::create_directories(state_);
    write(dir / "bin" / "docker", kFakeDockerScript);
    write(dir / "bin" / "sleep", kFastSleepScript);
    const char* path = std::getenv("PATH");
    old_path_ = path ? path : "/usr/bin:/bin";
    ::setenv("PATH", ((dir / "bin").string() + ":" + old_path_).c_str(), 1);
    ::setenv("KBZ_FAKE_DOCKER", state_.c_str(), 1);
  }
  ~FakeDocker() {
    ::setenv("PATH", old_path_.c_str(), 1);
    ::unsetenv("KBZ_FAKE_DOCKER");
  }
  FakeDocker(const FakeDocker&) = delete;
  FakeDocker& operator=(const FakeDocker&) = delete;

  std::string log() const {
    std::ifstream in(state_ / "log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void clear_log() const { std::filesystem::remove(state_ / "log"); }
  const std::filesystem::path& state() const { return state_; }

 private:
  static void write(const std::filesystem::path& p, const char* text) {
    std::ofstream(p) << text;
    ::chmod(p.c_str(), 0755);
  }
  std::filesystem::path state_;
  std::string old_path_;
};

}  // namespace kbz::test
