// pulumi-analyzer-policy starts a Node.js policy pack as an analyzer plugin of the Pulumi CLI.
//
// The CLI (3.274) runs a policy pack directory through its language host's RunPlugin call, which the
// Node.js language host built here (sdk v3.68, the last one the Go module proxy serves) does not
// implement. So the pack is given to the CLI as an executable (policy/analyzer, which calls this),
// and this does what a current pulumi-language-nodejs does for a policy pack: answer the engine's
// Handshake and ConfigureStack through the SDK's PolicyProxy, start
// `node <pack>/node_modules/@pulumi/pulumi/cmd/run-policy-pack <engine> <pack>` with the stack's
// name and config in its environment (what `pulumi.getStack()` and `pulumi.Config` read), and
// forward every other call to it.
//
//	pulumi-analyzer-policy ENGINE_ADDRESS POLICY_PACK_DIR
//
// Node.js: $EGOV_POLICY_NODE, else node_modules/.bin/node of the pack or of its parent directory
// (the project's Node 22), else node on PATH.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	sdk "github.com/pulumi/pulumi/sdk/v3"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-analyzer-policy: "+format+"\n", args...)
	os.Exit(1)
}

// quietClose drops the proxy's report that the pack's stdout closed, which it prints when the pack exits.
type quietClose struct{ w io.Writer }

func (q quietClose) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("error copying stdout:")) && bytes.Contains(p, []byte("closed pipe")) {
		return len(p), nil
	}
	return q.w.Write(p)
}

func nodeFor(pack string) string {
	if n := os.Getenv("EGOV_POLICY_NODE"); n != "" {
		return n
	}
	for _, dir := range []string{pack, filepath.Dir(pack)} {
		n := filepath.Join(dir, "node_modules", ".bin", "node")
		if st, err := os.Stat(n); err == nil && !st.IsDir() {
			return n
		}
	}
	return "node"
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: pulumi-analyzer-policy ENGINE_ADDRESS POLICY_PACK_DIR")
	}
	engine := os.Args[1]
	pack, err := filepath.Abs(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	runner := filepath.Join(pack, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack")
	if _, err := os.Stat(runner); err != nil {
		fail("%s is missing: install the policy pack's dependencies (npm ci --prefix %s)", runner, pack)
	}

	ctx := context.Background()
	proxy, stdout, err := sdk.NewPolicyProxy(ctx, quietClose{os.Stdout})
	if err != nil {
		fail("could not start the policy proxy: %v", err)
	}
	// Prints the proxy's port for the engine, then waits for its ConfigureStack call.
	stack, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		fail("could not get the stack configuration: %v", err)
	}

	env := os.Environ()
	if stack != nil {
		set := func(k, v string) {
			if v != "" {
				env = append(env, k+"="+v)
			}
		}
		set("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
		set("PULUMI_NODEJS_PROJECT", stack.GetProject())
		set("PULUMI_NODEJS_STACK", stack.GetStack())
		set("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
		if cfg := stack.GetConfig(); cfg != nil {
			b, err := json.Marshal(cfg)
			if err != nil {
				fail("could not encode the stack configuration: %v", err)
			}
			set("PULUMI_CONFIG", string(b))
		}
	}

	cmd := exec.Command(nodeFor(pack), runner, engine, pack)
	cmd.Dir = pack
	cmd.Env = env
	cmd.Stdout = stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		proxy.Abort(err)
		fail("could not start the policy pack: %v", err)
	}
	// Stopping this process stops the pack too (the engine interrupts only this process's children).
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	if err := proxy.Attach(ctx, cmd); err != nil {
		// The pack's own exit (it printed its errors; the engine stops it with a signal when done).
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if exit.ExitCode() < 0 {
				os.Exit(0)
			}
			os.Exit(exit.ExitCode())
		}
		fail("%v", err)
	}
}
