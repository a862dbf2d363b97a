// Package shim exposes the Terraform random provider, whose constructor lives in an internal
// package. Only a package under github.com/terraform-providers/terraform-provider-random may
// import it, hence this module's path.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream Terraform plugin-framework provider.
func NewProvider() provider.Provider {
	return upstream.New()
}
