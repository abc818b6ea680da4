# The boot test's ssh case (issue #13), sourced by .ci/boot-test.sh (uses its new_case, boot,
# inside, finish, helper, log and now_ms).
#
# A Debian 12 container with openssh-server and sudo stands for a server the user already has:
# cloud-init only configures its network and lets the test's key log in as root and as `debian`
# (Debian's default user, password-less sudo). Nothing of inletsctl is in its user-data. First a
# create pinned to another key must be refused before any login. Then, as root and again as debian
# (through sudo, on the same container, after the first delete):
#   1. the real CLI: `inletsctl create --provider ssh --host IP --ssh-key KEY --ssh-host-key
#      sha256:…`, the pin read from the container's own host key (never from the network);
#   2. the node answers /healthz and /status, and carries 1 MiB through the data port;
#   3. `inletsctl delete`; then, looked at from inside the container: no marker, none of the files
#      the install's manifest listed, no inlets unit (installed, transient or loaded), no listener on
#      the control port, no process, the token in no file, the users' authorized_keys, sshd_config
#      and sudo rules unchanged. The same checks must see every kind of trace before delete.
# State, known_hosts and HOME for the CLI live in the case's work dir.

# ssh_wait: cloud-init done (it makes the host keys and the authorized_keys before sshd starts),
# then sshd's banner on port 22. Bounded by READY_TIMEOUT.
ssh_wait() {
  local end=$(($(date +%s) + READY_TIMEOUT)) s
  until s=$(inside cloud-init status 2>/dev/null) && grep -qE 'status: (done|error|degraded)' <<<"$s"; do
    [ "$(date +%s)" -lt "$end" ] || { log "cloud-init did not finish within $READY_TIMEOUT s"; return 1; }
    sleep 1
  done
  until timeout 3 bash -c "exec 3<>/dev/tcp/$ct_ip/22 && head -c 4 <&3" 2>/dev/null | grep -q SSH-; do
    [ "$(date +%s)" -lt "$end" ] || { log "no sshd banner on $ct_ip:22 within $READY_TIMEOUT s"; return 1; }
    sleep 1
  done
}

# What must be the same before create and after delete: the users' keys, sshd's and sudo's config.
ssh_fixed_state() {
  inside /bin/sh -c 'sha256sum /root/.ssh/authorized_keys /home/debian/.ssh/authorized_keys /etc/ssh/sshd_config /etc/sudoers /etc/sudoers.d/*
    ls /etc/ssh/sshd_config.d /etc/sudoers.d' 2>&1
}

# ssh_traces: one line for each thing of the tunnel's still in the container (the manifest's
# files and our directories, units, a listener on the control port, a process, a file holding the
# token); nothing when it is all gone. Run before delete too, where it must see every kind.
ssh_traces() {
  {
    cat "$work/manifest"
    printf '%s\n' /etc/inletsctl /etc/inlets /usr/local/lib/inlets /etc/default/inlets /etc/systemd/system/inlets.service /var/lib/inlets /var/lib/private/inlets
  } | inside /bin/sh -c 'while read -r f; do [ ! -e "$f" ] || echo "file left: $f"; done' || echo "check failed: files"
  inside /bin/sh -c '
    systemctl list-units --all --plain --no-legend "inlets*" "inletsctl*" | sed "s/^/unit left: /"
    systemctl list-unit-files --plain --no-legend "inlets*" "inletsctl*" | sed "s/^/unit file left: /"
    ss -Hltn "sport = :8123" | sed "s/^/listener left: /"
    pgrep -af "[/]usr/local/lib/inlets" | sed "s/^/process left: /"
  ' || echo "check failed: units"
  # The token on stdin (never an argument).
  inside /bin/sh -c 'grep -rlaF -D skip -f - /etc /usr /var /root /home /opt /srv /tmp /run 2>/dev/null | sed "s/^/token in: /"; true' \
    <"$work/token" || echo "check failed: token"
}

# ssh_round CASE USER PIN: create over SSH as USER, readiness, traffic, delete, no trace.
ssh_round() {
  local name=$1 user=$2 pin=$3
  local tunnel=boot-ssh-$id-$user port=$((RANDOM % 10000 + 20000)) t0 elapsed
  local cli=(env HOME="$work/home" XDG_CONFIG_HOME="$work/config" node "$ROOT/bin/inletsctl.mjs")
  ssh_fixed_state >"$work/fixed.before"

  t0=$(now_ms)
  if ! "${cli[@]}" create "$tunnel" --provider ssh --host "$ct_ip" --ssh-user "$user" --ssh-key "$work/client/id_ed25519" \
    --ssh-host-key "sha256:${pin#SHA256:}" --ports "$port" --poll 500ms --timeout "${READY_TIMEOUT}s" --json \
    >"$work/created.json" 2>"$work/create.err"; then
    log "[$name/$user] create failed:"; tail -20 "$work/create.err"
    inside /bin/sh -c 'tail -40 /etc/inletsctl/*/install.log' 2>&1 || true
    return 1
  fi
  elapsed=$(($(now_ms) - t0))
  log "[$name/$user] create over SSH to ready: $((elapsed / 1000)).$((elapsed % 1000 / 100)) s"
  helper created "$work" "$ct_ip" || return 1
  if [ "$user" != root ] && ! grep -aqE "sudo\[[0-9]+\]: +$user : .*USER=root ; COMMAND=/usr/bin/sh -s" "$work/console.log"; then
    log "[$name/$user] the container's journal shows no sudo by $user"; return 1
  fi
  helper ready "https://$ct_ip:8123" "$work" 30 || return 1
  helper traffic "https://$ct_ip:8123" "$ct_ip" "$work" "$port" || return 1

  # What the install left, read in the container: the check after delete is only as good as this.
  inside /bin/sh -c 'cat /etc/inletsctl/*/manifest' >"$work/manifest" || { log "[$name/$user] no marker"; return 1; }
  [ -s "$work/manifest" ] || { log "[$name/$user] an empty manifest"; return 1; }
  inside /bin/sh -c 'while read -r f; do [ -e "$f" ] || echo "missing $f"; done; systemctl is-active inlets.service' \
    <"$work/manifest" >"$work/present" 2>&1 || true
  grep -qx active "$work/present" && ! grep -q '^missing' "$work/present" ||
    { log "[$name/$user] not installed as listed:"; cat "$work/present"; return 1; }
  log "[$name/$user] installed: $(paste -sd' ' "$work/manifest"), inlets.service active"
  "${cli[@]}" list --json >"$work/list.json" 2>"$work/list.err" && grep -q "\"$tunnel\"" "$work/list.json" ||
    { log "[$name/$user] list does not show $tunnel"; return 1; }
  # The checks after delete can fail: while installed they see every kind of trace.
  ssh_traces >"$work/trace.installed" 2>&1
  local kind
  for kind in 'file left: /etc/inletsctl$' 'unit left: inlets.service' 'unit file left: inlets.service' 'listener left: ' 'process left: ' 'token in: /etc/default/inlets$'; do
    grep -q "^$kind" "$work/trace.installed" || { log "[$name/$user] the trace check does not see \"$kind\" while installed:"; cat "$work/trace.installed"; return 1; }
  done

  t0=$(now_ms)
  "${cli[@]}" delete "$tunnel" --yes --poll 500ms --timeout 120s >"$work/delete.out" 2>&1 ||
    { log "[$name/$user] delete failed:"; tail -20 "$work/delete.out"; return 1; }
  elapsed=$(($(now_ms) - t0))
  log "[$name/$user] delete over SSH: $((elapsed / 1000)).$((elapsed % 1000 / 100)) s"

  ssh_traces >"$work/trace" 2>&1
  ssh_fixed_state >"$work/fixed.after"
  diff "$work/fixed.before" "$work/fixed.after" | sed 's/^/changed: /' >>"$work/trace" || true
  if [ -s "$work/trace" ]; then
    log "[$name/$user] delete left a trace:"; cat "$work/trace"
    return 1
  fi
  "${cli[@]}" list --json >"$work/list.json" 2>"$work/list.err" || { log "[$name/$user] list failed after delete"; return 1; }
  if grep -q "\"$tunnel\"" "$work/list.json"; then log "[$name/$user] list still shows $tunnel"; return 1; fi
  log "[$name/$user] no trace after delete (files, units, listener, process, token, keys)"
}

# ssh_wrong_pin CASE: a pin of another key is refused before anything runs on the host.
ssh_wrong_pin() {
  local name=$1 other
  other=$(ssh-keygen -lf "$work/client/id_ed25519.pub" -E sha256 | awk '{ print $2 }')
  if env HOME="$work/home" XDG_CONFIG_HOME="$work/config" node "$ROOT/bin/inletsctl.mjs" create "boot-ssh-$id-pin" --provider ssh \
    --host "$ct_ip" --ssh-key "$work/client/id_ed25519" --ssh-host-key "$other" --timeout 30s --json >"$work/wrong-pin.out" 2>&1; then
    log "[$name] create with a wrong host-key pin succeeded"; return 1
  fi
  grep -q "refusing $ct_ip:22" "$work/wrong-pin.out" || { log "[$name] no refusal for a wrong pin:"; tail -5 "$work/wrong-pin.out"; return 1; }
  # sshd logs to the journal, which goes to the console: no login may have happened yet.
  if inside /bin/sh -c '[ ! -e /etc/inletsctl ]' && ! grep -aq 'Accepted publickey' "$work/console.log"; then
    log "[$name] a wrong host-key pin is refused; nothing on the host"
  else
    log "[$name] a wrong host-key pin left something on the host"; return 1
  fi
}

# run_ssh_case NAME: one container, a round as root, then one as debian through sudo.
run_ssh_case() {
  local name=$1 ok=1 pin user
  new_case "$name"
  mkdir -p "$work/client" "$work/home" "$work/config"
  ssh-keygen -q -t ed25519 -N '' -C inlets-boot-test -f "$work/client/id_ed25519"
  cat >"$work/seed/user-data" <<UD
#cloud-config
disable_root: false
ssh_authorized_keys:
  - $(cat "$work/client/id_ed25519.pub")
UD
  boot "$name"
  if ssh_wait; then
    local elapsed=$(($(now_ms) - started))
    log "[$name] sshd up: $((elapsed / 1000)).$((elapsed % 1000 / 100)) s after container start"
    if inside cat /etc/ssh/ssh_host_ed25519_key.pub >"$work/host_ed25519.pub" &&
      pin=$(ssh-keygen -lf "$work/host_ed25519.pub" -E sha256 | awk '{ print $2 }') && [ -n "$pin" ]; then
      log "[$name] host key read in the container: $pin"
      ssh_wrong_pin "$name" || ok=0
      [ "$ok" = 0 ] || for user in root debian; do ssh_round "$name" "$user" "$pin" || { ok=0; break; }; done
    else
      log "[$name] cannot read the container's host key"
      ok=0
    fi
  else
    ok=0
  fi
  finish "$name" "$ok"
}
