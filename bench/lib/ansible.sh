# shellcheck shell=bash
# Ansible as a peer: the same 30 steps as bench module 90 (15 files, 15 commands whose check is `test -f`) as a
# playbook, run by Debian's ansible-core against the same farm with the same key, user, strict known_hosts and
# sudo. Tuned as Ansible's docs advise for speed: pipelining, ControlPersist, forks 64 (--fanout), no fact
# gathering (kbz-install does gather its facts: this favours Ansible). Sourced by run.sh; expects FARM, NET,
# BENCH_USER, KEY, KH, FANOUT.

# ansible_setup N: inventory, ansible.cfg and playbook under $FARM/ansible for the first N hosts.
ansible_setup() {
  local count=$1 dir="$FARM/ansible" i
  mkdir -p "$dir/cp"
  {
    echo "[bench]"
    for ((i = 1; i <= count; i++)); do
      printf 'bench-%03d ansible_host=%s\n' "$i" "$NET.$i"
    done
  } >"$dir/hosts-$count.ini"
  # ControlPath must stay short (108-byte socket paths): %C is a hash of host, port and user.
  cat >"$dir/ansible.cfg" <<CFG
[defaults]
forks = $FANOUT
remote_user = $BENCH_USER
private_key_file = $KEY
host_key_checking = True
gathering = explicit
interpreter_python = /usr/bin/python3
retry_files_enabled = False
local_tmp = $dir/tmp
deprecation_warnings = False

[privilege_escalation]
become = True
become_method = sudo

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=$KH -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes
control_path = $dir/cp/%%C
CFG
  # Same steps as bench/modules/90-bench-noop, in its own folder (/home/kbzbench/ansible-bench/<host>/).
  # Each command comes before its file (module 90 has file, command): Ansible's copy does not create the
  # parent folder, the first command's mkdir -p does; still 30 tasks.
  local base="/home/$BENCH_USER/ansible-bench/{{ inventory_hostname }}" n
  {
    echo "- hosts: bench"
    echo "  gather_facts: false"
    echo "  tasks:"
    for n in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15; do
      cat <<TASKS
    - name: cmd-$n
      ansible.builtin.shell: "mkdir -p $base && touch $base/c$n"
      args: {creates: "$base/c$n"}
    - name: file-$n
      ansible.builtin.copy:
        dest: "$base/f$n"
        content: "bench file $n of {{ inventory_hostname }}\n"
        mode: "0644"
        owner: $BENCH_USER
        group: $BENCH_USER
TASKS
    done
  } >"$dir/noop.yml"
}

# ansible_cmd N: the ansible-playbook command line in CMD (ANSIBLE_CONFIG is exported by the caller).
# shellcheck disable=SC2034 # CMD is read by run.sh
ansible_cmd() {
  CMD=(ansible-playbook -i "$FARM/ansible/hosts-$1.ini" "$FARM/ansible/noop.yml")
}

# Reads ansible-playbook's PLAY RECAP from its stdout: changed=..;failed=..;hosts=.. (exit 1 without a recap).
ansible_summary() {
  awk '
    /^PLAY RECAP/ { recap = 1; next }
    recap && / : ok=/ {
      hosts++
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "changed") changed += kv[2]
        if (kv[1] == "failed" || kv[1] == "unreachable") failed += kv[2]
      }
    }
    END { if (!hosts) exit 1; printf "changed=%d;failed=%d;hosts=%d\n", changed, failed, hosts }' "$1"
}

# ControlPersist masters outlive ansible-playbook: stop exactly ours, through their control sockets.
ansible_teardown() {
  local sock
  for sock in "${FARM:-/nonexistent}"/ansible/cp/*; do
    [[ -S $sock ]] && ssh -o ControlPath="$sock" -O exit bench-master >/dev/null 2>&1
  done
  return 0
}
