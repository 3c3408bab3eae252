// Package memback is an in-memory plugin.Backend for the tests of external
// backends: volumes and snapshots live in maps of one process, and a Fault
// makes the backend crash (os.Exit), hang or block at a chosen call, the
// misbehaviour the host must survive. It is not a conformance reference
// (plugin/plugintest has its own); it is just enough volume manager for a
// plugin process under test.
package memback
