#!/bin/sh
# Make a Redis Cluster of fresh nodes, once: 3 masters and 3 replicas from six nodes
# (`redis-cli --cluster create ... --cluster-replicas 1`). Run by the `redis-cluster-init` job of
# docker-compose.cluster.yml at every `docker compose up`; idempotent:
#
#   - every node fresh (no other node known, no slot)  -> create the cluster, wait until it is ok
#   - every node already in one cluster with all slots -> nothing to do, exit 0
#   - anything else (some nodes in a cluster, some not) -> change nothing, exit 1 saying which:
#     a replaced node is added by hand (redis-cli --cluster add-node), never guessed at here.
#
# Environment:
#   REDIS_CLUSTER_INIT_NODES  the nodes, "ip:port" separated by spaces (IP addresses: CLUSTER
#                             MEET takes no host names)
#   REDISCLI_AUTH             the nodes' password, if they have one (redis-cli reads it)
#   REDIS_CLUSTER_REPLICAS    replicas per master (1)
#   REDIS_CLUSTER_WAIT_S      how long to wait for the nodes, then for the cluster (60)
set -eu

nodes="${REDIS_CLUSTER_INIT_NODES:?set REDIS_CLUSTER_INIT_NODES (ip:port separated by spaces)}"
replicas="${REDIS_CLUSTER_REPLICAS:-1}"
wait_s="${REDIS_CLUSTER_WAIT_S:-60}"

say() { printf 'redis-cluster-init: %s\n' "$*"; }

# redis-cli against one node: cli ip:port args...
cli() {
  node="$1"
  shift
  redis-cli --no-auth-warning -h "${node%:*}" -p "${node##*:}" "$@"
}

# One field of CLUSTER INFO: info_field ip:port name
info_field() {
  cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2:\(.*\)$/\1/p"
}

count=0
for node in $nodes; do
  case "$node" in
    *.*.*.*:*) ;;
    *)
      say "$node is not ip:port"
      exit 1
      ;;
  esac
  count=$((count + 1))
done

say "waiting for $count nodes"
deadline=$(($(date +%s) + wait_s))
for node in $nodes; do
  until [ "$(cli "$node" ping 2>/dev/null | tr -d '\r')" = PONG ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "$node does not answer PING within ${wait_s}s"
      exit 1
    fi
    sleep 0.5
  done
done

fresh=0
joined=0
for node in $nodes; do
  if ! cli "$node" info cluster 2>/dev/null | tr -d '\r' | grep -qx 'cluster_enabled:1'; then
    say "$node does not run with cluster-enabled yes"
    exit 1
  fi
  known=$(info_field "$node" cluster_known_nodes)
  assigned=$(info_field "$node" cluster_slots_assigned)
  if [ "$known" = 1 ] && [ "$assigned" = 0 ]; then
    fresh=$((fresh + 1))
  elif [ "$known" -ge "$count" ] && [ "$assigned" = 16384 ]; then
    joined=$((joined + 1))
  else
    say "$node knows $known nodes and $assigned slots"
  fi
done

if [ "$joined" = "$count" ]; then
  say "the cluster exists already ($count nodes, every slot assigned): nothing to do"
  exit 0
fi
if [ "$fresh" != "$count" ]; then
  say "$fresh of $count nodes are fresh and $joined are in a cluster: changing nothing"
  say "add a replaced node with redis-cli --cluster add-node, or check with redis-cli --cluster check"
  exit 1
fi

say "creating the cluster: $count nodes, $replicas replica(s) per master"
# shellcheck disable=SC2086 # one argument per node
redis-cli --no-auth-warning --cluster create $nodes --cluster-replicas "$replicas" --cluster-yes

# Done when every node says the cluster is ok and sees every replica as one (gossip takes a
# moment to carry the roles around).
expected_replicas=$((count - count / (replicas + 1)))
settled() {
  [ "$(info_field "$1" cluster_state)" = ok ] &&
    [ "$(cli "$1" cluster nodes 2>/dev/null | grep -cE '[ ,]slave[ ,]')" = "$expected_replicas" ]
}
deadline=$(($(date +%s) + wait_s))
for node in $nodes; do
  until settled "$node"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "$node does not see the whole cluster ok within ${wait_s}s"
      exit 1
    fi
    sleep 0.5
  done
done
say "the cluster is ok: $((count - expected_replicas)) masters, $expected_replicas replicas"
