#!/usr/bin/env bash
# The real boot test (issue #3, item 8): rendered user-data booted by real cloud-init in a
# throw-away Debian 12 systemd container must become a working exit node that carries traffic.
#
# For each case (gzip'd #cloud-config, as EC2 and the local provider get it; the #!/bin/bash form):
#   1. a minbase bookworm rootfs (debootstrap, cached under $INLETS_BOOT_CACHE) is booted with
#      systemd-nspawn --volatile=overlay (the cache is never written), a NoCloud seed bind-mounted
#      at /var/lib/cloud/seed/nocloud, and a veth link to a /30 of its own;
#   2. the container may reach only the Debian mirror (ports 80/443) and the host's DNS servers,
#      through NAT; an `unreachable` route for its subnet is in place before any traffic, so no
#      packet for it can leave through the default route while the link is down;
#   3. from the host: poll https://IP:8123/healthz and /status (pinned key, token) until ready,
#      then send 1 MiB through an engine client and a data port to a local echo upstream and back.
# The https case boots HTTPS-mode user-data (gzip'd #cloud-config) for $HTTPS_DOMAIN whose ACME
# directory is Debian's pebble on the host's end of the link (the one host port the container may
# reach), trusted through the user-data's acme-ca file. pebble-challtestsrv on loopback is pebble's
# DNS: the domain's A record is the container, so pebble's HTTP-01 check goes to its port 80. From
# the host: wait for /status to show the certificate issued (the boot-to-certificate time), run an
# `inlets http client` to a local HTTP upstream, GET https://DOMAIN/ at the container verified
# against pebble's issuing root (its management API, /roots/0), and http://DOMAIN/ must be a 308.
# The https-staged case is the https case with EC2's staged start (user-data with the server's
# SHA-256 only): up is the first stage's 503 "waiting for inletsctl to deliver the server"; the helper
# then delivers the server as create does (deliverServer, PUT /server) and the same checks follow;
# last, `systemctl restart inlets.service` in the container must bring the server back from the bytes
# it kept in /var/lib/inlets, with no new delivery (/status 200, the certificate still issued).
# The ssh case (.ci/boot-test-ssh.sh) boots the same rootfs as a server someone already has and
# installs the exit node with `inletsctl create --provider ssh`, then checks delete leaves no trace.
# Everything is torn down by PID, machine name, table name and route, on success and failure.
#
# Needs root, debootstrap, systemd-container (systemd-nspawn), nftables, iproute2, node,
# ssh-keygen (openssh-client); the https case also pebble (Debian's package), openssl and curl.
# Environment: INLETS_BOOT_CACHE (default /var/cache/inlets-boot-test), INLETS_BOOT_TIMEOUT
# (seconds to wait for readiness per case, default 300), INLETS_BOOT_KEEP=1 keeps the work dir,
# INLETS_BOOT_CASES (names, space-separated; default: cloud-config-gzip boot-script ssh https
# https-staged).
# Prints "boot-test: N passed, M failed" and exits non-zero when anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${INLETS_BOOT_CACHE:-/var/cache/inlets-boot-test}
READY_TIMEOUT=${INLETS_BOOT_TIMEOUT:-300}
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
MIRROR_HOST=deb.debian.org
# Bump when the package list changes, so a stale cache is not used.
ROOTFS=$CACHE/rootfs-$SUITE-v2
# openssh-server and sudo: the ssh case (cloud-init's ssh module makes new host keys at each boot).
PACKAGES=systemd,systemd-sysv,dbus,cloud-init,iproute2,ca-certificates,python3-cffi-backend,openssh-server,sudo

now_ms() { echo $(($(date +%s%N) / 1000000)); }
log() { printf '%s boot-test: %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { log "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (systemd-nspawn, veth, nftables)"
for tool in debootstrap systemd-nspawn nft ip node getent nsenter flock ssh-keygen timeout; do
  command -v "$tool" >/dev/null || die "missing $tool (apt-get install debootstrap systemd-container nftables iproute2 openssh-client)"
done
[ -f "$ROOT/dist/inlets.mjs" ] && [ -f "$ROOT/dist/inlets-server-tcp.mjs" ] && [ -f "$ROOT/dist/inlets-server-http.mjs" ] ||
  (cd "$ROOT" && npm run build --silent)
helper() { node --import tsx "$ROOT/.ci/boot-test-helper.ts" "$@"; }

# --- the cached rootfs ------------------------------------------------------------------------
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 600 9 || die "another boot test holds $CACHE/.lock"
if [ ! -f "$ROOTFS/.complete" ]; then
  log "building the $SUITE rootfs in $ROOTFS (cached for later runs)"
  rm -rf "$ROOTFS.tmp"
  started=$(date +%s)
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log"; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  touch "$ROOTFS.tmp/.complete"
  rm -rf "$ROOTFS"
  mv "$ROOTFS.tmp" "$ROOTFS"
  log "rootfs ready in $(($(date +%s) - started)) s"
fi
flock -u 9

# --- teardown: every step registers its undo; run in reverse on exit ------------------------
UNDO=()
undo() { UNDO+=("$*"); }
teardown() {
  local i
  for ((i = ${#UNDO[@]} - 1; i >= 0; i--)); do eval "${UNDO[i]}" || true; done
  UNDO=()
}
trap teardown EXIT
trap 'exit 130' INT TERM

stop_container() { # PID: poweroff through SIGTERM, SIGKILL after 20 s
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop_pid() { # PID of a host-side helper process (pebble, challtestsrv): SIGTERM, SIGKILL after 5 s
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# free_port: a port no TCP or UDP socket of the host uses, below the ephemeral range (a busy host
# has thousands of connections there, and a listener cannot bind a port a connection holds).
free_port() {
  local p i low
  low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range)
  [ "$low" -gt 12000 ] || low=65536
  for ((i = 0; i < 100; i++)); do
    p=$((RANDOM % (low - 10000) + 10000))
    [ "$p" -lt 65536 ] && [ -z "$(ss -Htuan "sport = :$p")" ] && { echo "$p"; return 0; }
  done
  die "no free port found"
}

# DNS servers the container may use: the host's, unless those are a local stub.
dns_servers() {
  local file=/etc/resolv.conf
  if grep -qE '^nameserver 127\.' "$file" && [ -f /run/systemd/resolve/resolv.conf ]; then file=/run/systemd/resolve/resolv.conf; fi
  awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ && $2 !~ /^127\./ { print $2 }' "$file"
}

PASSED=0
FAILED=0

# new_case NAME [PORT...]: a work dir, the NoCloud seed but its user-data (the caller's: test-only
# settings go in vendor-data) and the container's network, before anything can send. The PORTs are
# the TCP ports on the host's end of the link the container may connect to (the https case's ACME
# server); nothing else on the host answers it. Sets id, machine, veth, host_ip, ct_ip and work.
new_case() {
  local name=$1 net
  shift
  local host_ports=$*
  id=$(printf '%04x' $((RANDOM % 65536)))
  machine=ib-$id
  veth=ve-$machine
  net=$((RANDOM % 250 + 2))
  host_ip=10.234.$net.1
  ct_ip=10.234.$net.2
  ip route show "10.234.$net.0/30" | grep -q . && die "10.234.$net.0/30 is in use; run again"
  work=$(mktemp -d /tmp/inlets-boot-test.XXXXXX)
  [ "${INLETS_BOOT_KEEP:-}" = 1 ] || undo "rm -rf '$work'"
  log "[$name] machine $machine, container $ct_ip, work dir $work"
  mkdir -p "$work/seed" "$work/networkd"
  printf 'instance-id: iid-inlets-boot-%s\nlocal-hostname: inlets-boot-%s\n' "$id" "$id" >"$work/seed/meta-data"
  # minbase has no locales package: C.UTF-8 avoids a locale-gen step (test seed only).
  printf '#cloud-config\nlocale: C.UTF-8\n' >"$work/seed/vendor-data"
  local dns
  dns=$(dns_servers | paste -sd, -)
  [ -n "$dns" ] || die "no usable DNS server in /etc/resolv.conf"
  cat >"$work/seed/network-config" <<NET
version: 2
ethernets:
  host0:
    addresses: [$ct_ip/30]
    gateway4: $host_ip
    nameservers:
      addresses: [$dns]
NET
  # Without this, networkd waits for IPv6 router advertisements that never come (about 14 s).
  printf '[Network]\nIPv6AcceptRA=no\nLinkLocalAddressing=no\n' >"$work/networkd/no-ra.conf"
  dns_servers | sed 's/^/nameserver /' >"$work/resolv.conf"

  # The network: unreachable route first, then the guard and NAT.
  ip route add unreachable "10.234.$net.0/30" metric 4000
  undo "ip route del unreachable 10.234.$net.0/30 metric 4000"
  local mirror_ips
  mirror_ips=$(getent ahostsv4 "$MIRROR_HOST" | awk '{ print $1 }' | sort -u | paste -sd, -)
  [ -n "$mirror_ips" ] || die "cannot resolve $MIRROR_HOST"
  local forward_was
  forward_was=$(cat /proc/sys/net/ipv4/ip_forward)
  if [ "$forward_was" != 1 ]; then
    echo 1 >/proc/sys/net/ipv4/ip_forward
    # Put it back (after our table is gone) unless another boot test's table is still there.
    undo "nft list tables | grep -q inlets_boot_ || echo $forward_was >/proc/sys/net/ipv4/ip_forward"
  fi
  local to_host=
  [ -z "$host_ports" ] || to_host="iifname \"$veth\" ip daddr $host_ip tcp dport { ${host_ports// /, } } accept"
  nft -f - <<NFT
table inet inlets_boot_$id {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "$veth" ct state established,related accept
    iifname "$veth" ip daddr { $dns } meta l4proto { tcp, udp } th dport 53 accept
    $to_host
    iifname "$veth" counter drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "$veth" ip daddr { $mirror_ips } tcp dport { 80, 443 } accept
    iifname "$veth" ip daddr { $dns } meta l4proto { tcp, udp } th dport 53 accept
    iifname "$veth" counter drop
    oifname "$veth" ct state established,related accept
    oifname "$veth" counter drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname "$veth" oifname != "$veth" masquerade
  }
}
NFT
  undo "nft delete table inet inlets_boot_$id"
}

# boot NAME: starts the container of new_case and its end of the link. Sets pid and started.
boot() {
  local name=$1 i
  started=$(now_ms)
  systemd-nspawn --boot --register=no --keep-unit --network-veth --volatile=overlay \
    --directory="$ROOTFS" --machine="$machine" --console=read-only --resolv-conf=off \
    --bind-ro="$work/seed:/var/lib/cloud/seed/nocloud" \
    --bind-ro="$work/resolv.conf:/etc/resolv.conf" \
    --bind-ro="$work/networkd:/etc/systemd/network/10-cloud-init-host0.network.d" \
    systemd.journald.forward_to_console=1 systemd.wants=systemd-networkd.service \
    >"$work/console.log" 2>&1 &
  pid=$!
  undo "stop_container $pid"
  for ((i = 0; i < 100; i++)); do ip link show "$veth" >/dev/null 2>&1 && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  ip link show "$veth" >/dev/null 2>&1 || { tail -30 "$work/console.log"; die "[$name] no $veth: systemd-nspawn did not start"; }
  ip addr add "$host_ip/30" dev "$veth"
  ip link set "$veth" up
}

# inside CMD...: runs CMD in the running container (all its namespaces), stdin passed through.
inside() {
  local leader
  leader=$(pgrep -P "$pid" | head -1 || true)
  [ -n "$leader" ] || { log "the container has no init process"; return 1; }
  nsenter -t "$leader" -m -u -i -n -p -- "$@"
}

# finish NAME OK: counts the case, shows the console and the unit when it failed, tears down.
finish() {
  local name=$1 ok=$2
  if [ "$ok" = 1 ]; then
    PASSED=$((PASSED + 1))
    log "[$name] passed"
  else
    FAILED=$((FAILED + 1))
    log "[$name] FAILED; console (last 60 lines):"
    tail -60 "$work/console.log" | sed 's/\x1b\[[0-9;]*m//g'
    log "[$name] inside: systemctl status inlets; cloud-init-output.log tail"
    inside /bin/sh -c 'systemctl --no-pager status inlets.service; tail -30 /var/log/cloud-init-output.log' 2>&1 | tail -60 || true
  fi
  teardown
}

# run_case NAME FORMAT BINARY: our rendered user-data booted by cloud-init; readiness and traffic.
run_case() {
  local name=$1 format=$2 binary=$3
  new_case "$name"
  helper render "$work" "$format" "$binary"
  mv "$work/user-data" "$work/seed/user-data"
  boot "$name"
  local url=https://$ct_ip:8123 ok=1
  if helper ready "$url" "$work" "$READY_TIMEOUT"; then
    local elapsed=$(($(now_ms) - started))
    log "[$name] boot to ready: $((elapsed / 1000)).$((elapsed % 1000 / 100)) s (container start to /status answering)"
    helper traffic "$url" "$ct_ip" "$work" || ok=0
  else
    ok=0
  fi
  finish "$name" "$ok"
}

# run_https_case NAME MODE: HTTPS-mode user-data for $HTTPS_DOMAIN, certificate from pebble on the
# host. MODE https: the server is in the user-data; https-staged: the staged start (EC2's), so the
# node is up once its first stage answers 503, then the server is delivered (PUT /server) and must
# take over; after the HTTPS checks, a restart of the unit must run the kept bytes, no new delivery.
HTTPS_DOMAIN=app.boot.test
run_https_case() {
  local name=$1 mode=$2 ok=1 acme_port mgmt_port dns_port dns_mgmt_port i
  acme_port=$(free_port)
  new_case "$name" "$acme_port"
  # Four distinct ports: pebble's ACME (host end of the link), its management API, challtestsrv's
  # DNS and management API (loopback).
  for ((i = 0; i < 20; i++)); do
    mgmt_port=$(free_port) dns_port=$(free_port) dns_mgmt_port=$(free_port)
    [ "$(printf '%s\n' "$acme_port" "$mgmt_port" "$dns_port" "$dns_mgmt_port" | sort -u | wc -l)" = 4 ] && break
  done
  local pb=$work/pebble
  mkdir -p "$pb"
  # pebble's own TLS certificate (for its ACME and management listeners): the node trusts it as acme-ca.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pb/key.pem" -out "$pb/cert.pem" \
    -days 1 -subj /CN=inlets-boot-test-pebble -addext "subjectAltName=IP:$host_ip,IP:127.0.0.1" >"$pb/openssl.log" 2>&1 ||
    { cat "$pb/openssl.log"; die "[$name] openssl could not make pebble's certificate"; }
  cat >"$pb/config.json" <<JSON
{"pebble": {"listenAddress": "$host_ip:$acme_port", "managementListenAddress": "127.0.0.1:$mgmt_port",
  "certificate": "$pb/cert.pem", "privateKey": "$pb/key.pem", "httpPort": 80, "tlsPort": 443,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
  local directory=https://$host_ip:$acme_port/dir
  helper render "$work" cloud-config true "$mode" "$HTTPS_DOMAIN" "$directory" "$pb/cert.pem"
  mv "$work/user-data" "$work/seed/user-data"

  # pebble's DNS, on loopback: the domain is the container, nothing else resolves.
  /usr/bin/pebble-challtestsrv -dns01 "127.0.0.1:$dns_port" -http01 '' -https01 '' -tlsalpn01 '' \
    -management "127.0.0.1:$dns_mgmt_port" -defaultIPv4 '' -defaultIPv6 '' >"$pb/challtestsrv.log" 2>&1 &
  undo "stop_pid $!"
  for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null --max-time 2 -d "{\"host\":\"$HTTPS_DOMAIN\",\"addresses\":[\"$ct_ip\"]}" "http://127.0.0.1:$dns_mgmt_port/add-a" && break
    sleep 0.1
  done
  grep -q "A queries to \"$HTTPS_DOMAIN\" : $ct_ip" "$pb/challtestsrv.log" ||
    { cat "$pb/challtestsrv.log"; die "[$name] pebble-challtestsrv did not take the A record"; }

  boot "$name"
  # pebble binds the host's end of the link, which exists from now on; the node needs far longer
  # (cloud-init, apt-get install nodejs) before it asks.
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
    /usr/bin/pebble -config "$pb/config.json" -dnsserver "127.0.0.1:$dns_port" >"$pb/pebble.log" 2>&1 &
  undo "stop_pid $!"
  for ((i = 0; i < 150; i++)); do
    curl -sf -o /dev/null --max-time 2 --cacert "$pb/cert.pem" "$directory" && break
    sleep 0.1
  done
  curl -sf -o /dev/null --max-time 2 --cacert "$pb/cert.pem" "$directory" ||
    { cat "$pb/pebble.log"; die "[$name] pebble does not answer at $directory"; }
  log "[$name] pebble at $directory (DNS 127.0.0.1:$dns_port: $HTTPS_DOMAIN is $ct_ip; HTTP-01 to port 80)"

  local url=https://$ct_ip:8123 up=1
  if [ "$mode" = https-staged ]; then
    # Up is the first stage's 503; the server then comes by PUT, as create delivers it.
    if helper ready "$url" "$work" "$READY_TIMEOUT" staged; then
      local elapsed=$(($(now_ms) - started))
      log "[$name] first stage up after $((elapsed / 1000)).$((elapsed % 1000 / 100)) s (container start to the 503 before delivery)"
      helper deliver "$url" "$work" 60 || up=0
    else
      up=0
    fi
  fi
  if [ "$up" = 1 ] && helper ready "$url" "$work" "$READY_TIMEOUT" && helper certificate "$url" "$work" "$HTTPS_DOMAIN" 120; then
    local elapsed=$(($(now_ms) - started))
    log "$name certificate after $((elapsed / 1000)).$((elapsed % 1000 / 100)) s (container start to /status showing $HTTPS_DOMAIN issued)"
    if curl -sf --max-time 5 --cacert "$pb/cert.pem" -o "$pb/root.pem" "https://127.0.0.1:$mgmt_port/roots/0"; then
      helper https "$url" "$ct_ip" "$work" "$HTTPS_DOMAIN" "$pb/root.pem" || ok=0
    else
      log "[$name] cannot read pebble's root from its management API"
      ok=0
    fi
    # The guard lets the container reach that one host port (the same probe connects there); another
    # gets no answer at all (nothing listens there, so without the guard it would be refused at once).
    local rc=0 rc_open=0
    inside timeout 3 bash -c "exec 3<>/dev/tcp/$host_ip/$acme_port" >/dev/null 2>&1 || rc_open=$?
    inside timeout 3 bash -c "exec 3<>/dev/tcp/$host_ip/$mgmt_port" >/dev/null 2>&1 || rc=$?
    if [ "$rc_open" = 0 ] && [ "$rc" = 124 ]; then
      log "[$name] the container gets no answer from $host_ip:$mgmt_port (only port $acme_port of the host is open to it)"
    else
      log "[$name] the container's connection to $host_ip:$mgmt_port was not dropped (exit $rc, 124 expected; to $acme_port: exit $rc_open, 0 expected)"
      ok=0
    fi
    [ "$mode" != https-staged ] || restart_staged "$name" "$url" || ok=0
  else
    ok=0
  fi
  if [ "$ok" = 0 ]; then
    log "[$name] pebble log (last 30 lines):"
    tail -30 "$pb/pebble.log" || true
  fi
  finish "$name" "$ok"
}

# restart_staged NAME URL: after delivery, `systemctl restart inlets.service` in the container must
# bring the server back from the bytes kept in /var/lib/inlets (no delivery: /healthz and /status
# answer 200, not the first stage's 503), with the certificate it had.
restart_staged() {
  local name=$1 url=$2 before after kept
  kept=/var/lib/inlets/inlets-server.mjs.br
  inside test -s "$kept" || { log "[$name] no $kept in the container after delivery"; return 1; }
  before=$(inside systemctl show -P MainPID inlets.service)
  inside systemctl restart inlets.service || { log "[$name] systemctl restart inlets.service failed"; return 1; }
  after=$(inside systemctl show -P MainPID inlets.service)
  if [ -z "$after" ] || [ "$after" = 0 ] || [ "$after" = "$before" ]; then
    log "[$name] inlets.service has main PID '$after' after the restart (was $before): not restarted"
    return 1
  fi
  local t0
  t0=$(now_ms)
  helper ready "$url" "$work" 60 && helper certificate "$url" "$work" "$HTTPS_DOMAIN" 30 || {
    log "[$name] after systemctl restart inlets.service, no server without a new delivery"
    return 1
  }
  local elapsed=$(($(now_ms) - t0))
  log "[$name] restart check passed: inlets.service restarted (main PID $before -> $after), server back from $kept without a delivery in $((elapsed / 1000)).$((elapsed % 1000 / 100)) s, /status 200, certificate issued"
}

# shellcheck source=boot-test-ssh.sh
. "$ROOT/.ci/boot-test-ssh.sh"

CASES=" ${INLETS_BOOT_CASES:-cloud-config-gzip boot-script ssh https https-staged} "
if [[ $CASES == *" https "* || $CASES == *" https-staged "* ]]; then
  for tool in /usr/bin/pebble /usr/bin/pebble-challtestsrv openssl curl ss; do
    command -v "$tool" >/dev/null || die "the https case needs $tool (apt-get install pebble openssl curl iproute2)"
  done
fi
[[ $CASES == *" cloud-config-gzip "* ]] && run_case cloud-config-gzip cloud-config true
[[ $CASES == *" boot-script "* ]] && run_case boot-script script false
[[ $CASES == *" ssh "* ]] && run_ssh_case ssh
[[ $CASES == *" https "* ]] && run_https_case https https
[[ $CASES == *" https-staged "* ]] && run_https_case https-staged https-staged

echo "boot-test: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
