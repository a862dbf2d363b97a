// Command pulumi-resource-random is the Pulumi resource plugin for the random package.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"egov.local/pulumi-random/provider"
)

// Both files are written by pulumi-tfgen-random at build time.
//
//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "random", provider.Info(metadata),
		pf.ProviderMetadata{PackageSchema: schema, BridgeMetadata: metadata})
}
