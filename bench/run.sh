#!/usr/bin/env bash
# The nested-page benchmark: our API against the raw baseline (one hand-written SQL query behind
# node:http + pg), on the same PostgreSQL data. Rounds alternate A B A B so drift hits both;
# medians are printed with the ratio. Needs wrk (apt-get install wrk) and PostgreSQL.
#   bash bench/run.sh            # 3 rounds of 10 s, 10 connections
#   ROUNDS=5 DURATION=20 CONNECTIONS=10 bash bench/run.sh
#   ACCEPT_ENCODING='gzip, br' bash bench/run.sh   # wrk sends no Accept-Encoding unless told
#   API_PORT=4201 RAW_PORT=4202 bash bench/run.sh  # beside another run on the same machine
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "Expected wrk on the PATH: apt-get install wrk" >&2; exit 2; }
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10} CONNECTIONS=${CONNECTIONS:-10}
API_PORT=${API_PORT:-4101} RAW_PORT=${RAW_PORT:-4102} ACCEPT_ENCODING=${ACCEPT_ENCODING:-}
BENCH_DB=${BENCH_DB:-booking_api_bench}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1 || createdb -d "$PG/postgres" "$BENCH_DB" 2>/dev/null || psql "$PG/postgres" -c "CREATE DATABASE $BENCH_DB" >/dev/null
export DATABASE_URL="$PG/$BENCH_DB" PG_POOL_MAX=${PG_POOL_MAX:-10} AUTH_JWT_SECRET=bench-secret NODE_ENV=production DEMO_DATA=false
# One token sends every request: a budget it never spends, so the limiter's cost is measured, not its refusals.
export RATE_LIMIT_POINTS=${RATE_LIMIT_POINTS:-100000000}
# An account token of a platform admin: each request resolves the account's grants (cached after the
# first), as a real identity provider's token would; production refuses role-claim service tokens.
export AUTH_ADMIN_SUBJECTS=bench
npx tsx bench/seed.ts

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
# The API runs as a deployment runs it: the production build (`npm run build`, then what
# `npm run start:prod` starts; see package.json for why the flag). BENCH_START=tsx measures the
# development start (`npm start`: TypeScript through tsx) instead.
if [ "${BENCH_START:-build}" = tsx ]; then
  API_ENTRY=(--import tsx src/index.ts)
else
  npm run build --silent
  API_ENTRY=(--enable-source-maps dist/index.js)
fi
PORT=$API_PORT node --max-semi-space-size=64 "${API_ENTRY[@]}" >/tmp/bench-api.log 2>&1 & pids+=($!)
PORT=$RAW_PORT node --import tsx bench/raw-server.ts >/tmp/bench-raw.log 2>&1 & pids+=($!)
for port in $API_PORT $RAW_PORT; do
  for _ in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.5; done
done

TOKEN=$(node --import tsx -e "
  import('./src/auth/tokens.ts').then(async ({ signDevelopmentToken }) =>
    console.log(await signDevelopmentToken('bench-secret', { sub: 'bench' })))")
QUERY='{ businesses(first: 20) { nodes { name bookings(first: 10) { nodes { id startsAt status service { name } partner { name } customer { name } } } } } }'
LUA=$(mktemp --suffix=.lua)
node -e "
  const body = JSON.stringify({ query: process.argv[1] });
  console.log('wrk.method = \"POST\"\nwrk.body = ' + JSON.stringify(body) + '\nwrk.headers[\"content-type\"] = \"application/json\"\nwrk.headers[\"authorization\"] = \"Bearer $TOKEN\"');
" "$QUERY" > "$LUA"
if [ -n "$ACCEPT_ENCODING" ]; then echo "wrk.headers[\"accept-encoding\"] = \"$ACCEPT_ENCODING\"" >> "$LUA"; fi

# Both answer the same page: check once, so the comparison is fair.
curl -s -X POST http://127.0.0.1:$API_PORT/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d "$(node -e "console.log(JSON.stringify({query: process.argv[1]}))" "$QUERY")" \
  | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s); if(r.errors) {console.error(r.errors); process.exit(1)}; const n=r.data.businesses.nodes; console.log('API page: '+n.length+' businesses x '+n[0].bookings.nodes.length+' bookings')})"

rate() { wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$LUA" "$1" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c"$CONNECTIONS" -d3s -s "$LUA" http://127.0.0.1:$API_PORT/graphql >/dev/null   # warm-up: JIT, pools
wrk -t2 -c"$CONNECTIONS" -d3s -s "$LUA" http://127.0.0.1:$RAW_PORT/ >/dev/null
api=() raw=()
for r in $(seq 1 "$ROUNDS"); do
  api+=("$(rate http://127.0.0.1:$API_PORT/graphql)")
  raw+=("$(rate http://127.0.0.1:$RAW_PORT/)")
  echo "round $r: api ${api[-1]} req/s, raw ${raw[-1]} req/s"
done
node -e "
  const med = (xs) => { const s = xs.map(Number).sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const api = process.argv[1].split(' '), raw = process.argv[2].split(' ');
  const ratios = api.map((a, i) => a / raw[i]);
  console.log('median api ' + med(api).toFixed(0) + ' req/s, raw ' + med(raw).toFixed(0) + ' req/s, ratio per round ' + ratios.map(r => r.toFixed(3)).join(' ') + ', median ratio ' + med(ratios).toFixed(3));
" "${api[*]}" "${raw[*]}"
# What one answer weighs on the wire with this run's Accept-Encoding (headers excluded).
for target in "api http://127.0.0.1:$API_PORT/graphql" "raw http://127.0.0.1:$RAW_PORT/"; do
  set -- $target
  curl -s -o /dev/null -w "$1: %{size_download} bytes per answer${ACCEPT_ENCODING:+ with accept-encoding: $ACCEPT_ENCODING}\n" -X POST "$2" \
    -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" ${ACCEPT_ENCODING:+-H "accept-encoding: $ACCEPT_ENCODING"} \
    -d "$(node -e "console.log(JSON.stringify({query: process.argv[1]}))" "$QUERY")"
done
