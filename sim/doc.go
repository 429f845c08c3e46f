// Package sim is walletsim's domain: who pays whom, with which wallet, in
// which currency, under which limits. It knows nothing of Kafka or HTTP; the
// engine and adapters build on it.
//
// Enumerations are small integers so that state and route tables stay dense
// arrays: a route decision is an index, never a map lookup or a string
// compare. Each has a stable wire value (it appears in encoded events, so
// never renumber) and a stable name (it appears in YAML and JSON).
//
// The data path, with the package that owns each arrow:
//
//	scenarios (YAML, strict loader)      sim/trace, sim/trace/paysim (recorded traffic)
//	        │ sim/scenario                       │
//	        ▼                                    ▼
//	   sim/gen  ── Source: commands per epoch ───┘
//	        │ sim/event (protobuf wire)
//	        ▼
//	   sim/engine ── sim/bus (kafka-go) ──▶ [commands] ──▶ processor per partition
//	        │                                                 │ sim/route decides
//	        │                                                 │ sim/ledger applies
//	        │             [transfers] ◀── saga steps ─────────┤
//	        │             [events]    ◀── append ─────────────┘
//	        ▼
//	   sim/audit (the one verdict) ◀── sim/engine.Verify, sim/engine/replay
//	        │
//	        ▼
//	   sim/run (a whole run: Summary) ──▶ sim/run/compare, sim/report/html,
//	                                      sim/report/calibration, sim/metrics
//
//	   sim/api: the HTTP API over sim/engine (serve); loadtest: vegeta against it
//	   sim/bus/embedded: the kfake broker; sim/bus/faults: injected faults;
//	   sim/bus/wmkafka: watermill's Publisher/Subscriber on kafka-go.
//
// The model packages (sim, sim/scenario, sim/gen, sim/event, sim/route,
// sim/ledger, sim/audit) import neither a Kafka client, watermill nor
// net/http: TestModelImportsNoAdapters keeps it so.
package sim
