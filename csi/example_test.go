package csi_test

import (
	"context"
	"fmt"
	"os"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"

	"github.com/CodeMonkeyCybersecurity/eos-storage/csi"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// A driver over the in-memory reference backend answers the identity
// calls without root; csi.Listen and Driver.Serve put it on a socket.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "csi-example-")
	defer os.RemoveAll(dir)
	b, _ := plugintest.NewMemory(dir+"/pool", "mem", 1<<30, plugintest.Faults{})
	st, err := csi.OpenEngine(context.Background(), dir+"/state", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	d, err := csi.New(b, st, csi.WithNodeID("node-a"), csi.WithVersion("1.0"))
	if err != nil {
		fmt.Println(err)
		return
	}
	info, _ := d.GetPluginInfo(context.Background(), &csipb.GetPluginInfoRequest{})
	node, _ := d.NodeGetInfo(context.Background(), &csipb.NodeGetInfoRequest{})
	fmt.Println(info.GetName(), info.GetVendorVersion())
	fmt.Println(node.GetNodeId(), node.GetAccessibleTopology().GetSegments())
	// Output:
	// storage.eos.codemonkey.ai 1.0
	// node-a map[eos-storage/node:node-a]
}
