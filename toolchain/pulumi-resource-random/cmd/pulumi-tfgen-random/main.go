// Command pulumi-tfgen-random writes schema.json and bridge-metadata.json:
//
//	UPSTREAM_REPO_PATH=<terraform-provider-random module dir> pulumi-tfgen-random schema --skip-examples --out DIR
//
// UPSTREAM_REPO_PATH is where the upstream docs are read from (without it the bridge looks them
// up itself, over the network).
package main

import (
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"egov.local/pulumi-random/provider"
)

func main() {
	info := provider.Info([]byte("{}"))
	info.UpstreamRepoPath = os.Getenv("UPSTREAM_REPO_PATH")
	tfgen.Main("random", info)
}
