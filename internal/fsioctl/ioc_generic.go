//go:build !(ppc || ppc64 || ppc64le || mips || mipsle || mips64 || mips64le || sparc || sparc64)

package fsioctl

var archIOC = genericIOC
