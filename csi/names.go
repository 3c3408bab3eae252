package csi

import (
	"crypto/sha256"
	"encoding/hex"
)

// backendName maps a CO-chosen name (any UTF-8, up to 128 bytes in practice)
// to a backend name every backend accepts: a prefix and 32 hex digits of
// its SHA-256. The same CSI name always maps to the same backend name, so
// a repeated CreateVolume finds its volume without any state in the driver.
func backendName(prefix, csiName string) string {
	h := sha256.Sum256([]byte(csiName))
	return prefix + hex.EncodeToString(h[:16])
}

const (
	volPrefix  = "csi-"
	snapPrefix = "snap-"
	// tagName carries the CSI name, for listing and for people.
	tagName = "csi.name="
	tagFS   = "csi.fs="
)
