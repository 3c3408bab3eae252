// Package externaltest lets the tests of programs that load external
// backends (examples/volumes, csi) use their own test binary as a plugin:
// TestMain calls ServeIfChild first, and the test opens os.Args[0] with
// Env in the plugin's environment. The plugin serves a small in-memory
// backend named "memory" with one pool "mem"; its state lives as long as
// the process, or in a file named with StateEnv so that it outlives it.
package externaltest
