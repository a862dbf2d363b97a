// Command pulumi-tfgen-random writes schema.json and bridge-metadata.json:
// pulumi-tfgen-random schema --out DIR
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"egov.local/pulumi-random/provider"
)

func main() {
	tfgen.Main("random", provider.Info([]byte("{}")))
}
