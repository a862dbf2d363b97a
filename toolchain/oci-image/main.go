// oci-image assembles OCI images without a container daemon, with go-containerregistry (the library behind
// crane, ko and kaniko's registry code): a base image from a registry or an OCI layout, plus one layer per
// --layer directory, plus config (env, command, working directory, labels); written as an OCI layout or
// pushed to a registry. Layers are reproducible (sorted entries, owner 0:0, fixed times), so the same
// inputs give the same digest on any build host.
//
//	oci-image build --base REF|oci:DIR|scratch [--platform linux/amd64] --layer SRC=DEST ... [--env K=V ...]
//	          [--cmd JSON] [--workdir DIR] [--label K=V ...] (--out DIR | --push REF) [--tag REF]
//	oci-image unpack --layout DIR --rootfs DIR    # the image's flattened filesystem (whiteouts applied)
//	oci-image inspect --layout DIR                # {"digest", "config"} of the layout's image
//	oci-image push --layout DIR REF               # the layout's image to a registry, digest unchanged
//
// build prints {"digest", "base"} (the image's and its base's digests) as JSON on stdout. Registry credentials: the Docker config
// (~/.docker/config.json, $DOCKER_CONFIG), like crane. Registries on localhost are spoken to over HTTP.
package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The time every file and the image carry: digests depend on content only.
var epoch = time.Unix(0, 0).UTC()

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if len(os.Args) < 2 {
		die(errors.New("usage: oci-image build|unpack|inspect|push ..."))
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "unpack":
		err = unpack(os.Args[2:])
	case "inspect":
		err = inspect(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: build, unpack, inspect or push", os.Args[1])
	}
	if err != nil {
		die(err)
	}
}

func die(err error) {
	fmt.Fprintf(os.Stderr, "oci-image: %v\n", err)
	os.Exit(1)
}

// layoutImage is the one image of an OCI layout (the first manifest of its index).
func layoutImage(dir string) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) == 0 {
		return nil, fmt.Errorf("%s holds no image", dir)
	}
	return idx.Image(m.Manifests[0].Digest)
}

func baseImage(ref, platform string) (v1.Image, error) {
	switch {
	case ref == "scratch":
		return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), nil
	case strings.HasPrefix(ref, "oci:"):
		return layoutImage(strings.TrimPrefix(ref, "oci:"))
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	return remote.Image(r, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithPlatform(*p))
}

// dirLayer is a reproducible layer of SRC's tree placed at DEST (parents of DEST included as directories).
func dirLayer(src, dest string) (v1.Layer, error) {
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("layer source %s is not a directory", src)
	}
	dest = strings.Trim(filepath.ToSlash(dest), "/")
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeTree(pw, src, dest)) }()
		return pr, nil
	}, tarball.WithMediaType(types.OCILayer))
}

func writeTree(w io.Writer, src, dest string) error {
	tw := tar.NewWriter(w)
	hdr := func(h *tar.Header) error {
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime, h.AccessTime, h.ChangeTime = epoch, time.Time{}, time.Time{}
		h.Format = tar.FormatPAX
		return tw.WriteHeader(h)
	}
	if dest != "" {
		parts := strings.Split(dest, "/")
		for i := range parts {
			if err := hdr(&tar.Header{Typeflag: tar.TypeDir, Name: strings.Join(parts[:i+1], "/") + "/", Mode: 0o755}); err != nil {
				return err
			}
		}
	}
	var paths []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != src {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(src, p)
		nm := filepath.ToSlash(rel)
		if dest != "" {
			nm = dest + "/" + nm
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		perm := int64(st.Mode().Perm())
		switch {
		case st.IsDir():
			err = hdr(&tar.Header{Typeflag: tar.TypeDir, Name: nm + "/", Mode: perm})
		case st.Mode()&fs.ModeSymlink != 0:
			target, lerr := os.Readlink(p)
			if lerr != nil {
				return lerr
			}
			err = hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: nm, Linkname: target, Mode: 0o777})
		case st.Mode().IsRegular():
			if err = hdr(&tar.Header{Typeflag: tar.TypeReg, Name: nm, Mode: perm, Size: st.Size()}); err != nil {
				return err
			}
			f, oerr := os.Open(p)
			if oerr != nil {
				return oerr
			}
			_, err = io.Copy(tw, f)
			f.Close()
		default:
			return fmt.Errorf("%s: only files, directories and symlinks go into a layer", p)
		}
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

func setEnv(env []string, kv string) []string {
	k := strings.SplitN(kv, "=", 2)[0]
	out := env[:0:0]
	for _, e := range env {
		if strings.SplitN(e, "=", 2)[0] != k {
			out = append(out, e)
		}
	}
	return append(out, kv)
}

func build(args []string) error {
	fl := flag.NewFlagSet("build", flag.ContinueOnError)
	base := fl.String("base", "", "base image: a registry reference, oci:DIR (an OCI layout) or scratch")
	platform := fl.String("platform", "linux/amd64", "platform to take from a multi-platform base")
	cmdJSON := fl.String("cmd", "", "command as a JSON array (replaces the base's)")
	workdir := fl.String("workdir", "", "working directory")
	out := fl.String("out", "", "write an OCI layout to this directory (replaced)")
	push := fl.String("push", "", "push to this reference")
	tag := fl.String("tag", "", "reference recorded in the layout (org.opencontainers.image.ref.name)")
	var layers, envs, labels multi
	fl.Var(&layers, "layer", "SRC=DEST: the directory SRC at DEST in the image (repeatable)")
	fl.Var(&envs, "env", "K=V (repeatable)")
	fl.Var(&labels, "label", "K=V (repeatable)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *base == "" || (*out == "") == (*push == "") {
		return errors.New("build needs --base and one of --out or --push")
	}
	img, err := baseImage(*base, *platform)
	if err != nil {
		return fmt.Errorf("base image %s: %w", *base, err)
	}
	baseDigest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("base image %s: %w", *base, err)
	}
	for _, l := range layers {
		src, dest, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("--layer %s: expected SRC=DEST", l)
		}
		layer, err := dirLayer(src, dest)
		if err != nil {
			return err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
			CreatedBy: "oci-image build --layer " + filepath.Base(src) + "=" + dest, Created: v1.Time{Time: epoch}}})
		if err != nil {
			return err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg := cf.Config.DeepCopy()
	for _, e := range envs {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("--env %s: expected K=V", e)
		}
		cfg.Env = setEnv(cfg.Env, e)
	}
	if *cmdJSON != "" {
		var cmd []string
		if err := json.Unmarshal([]byte(*cmdJSON), &cmd); err != nil {
			return fmt.Errorf("--cmd: %w", err)
		}
		cfg.Cmd, cfg.Entrypoint = cmd, nil
	}
	if *workdir != "" {
		cfg.WorkingDir = *workdir
	}
	if len(labels) > 0 && cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("--label %s: expected K=V", l)
		}
		cfg.Labels[k] = v
	}
	if img, err = mutate.Config(img, *cfg); err != nil {
		return err
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: epoch}); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if *out != "" {
		if err := os.RemoveAll(*out); err != nil {
			return err
		}
		p, err := layout.Write(*out, empty.Index)
		if err != nil {
			return err
		}
		var opts []layout.Option
		if *tag != "" {
			opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": *tag}))
		}
		if err := p.AppendImage(img, opts...); err != nil {
			return err
		}
	} else {
		r, err := name.ParseReference(*push)
		if err != nil {
			return err
		}
		if err := remote.Write(r, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("push %s: %w", *push, err)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"digest": digest.String(), "base": baseDigest.String()})
}

func unpack(args []string) error {
	fl := flag.NewFlagSet("unpack", flag.ContinueOnError)
	dir := fl.String("layout", "", "OCI layout")
	rootfs := fl.String("rootfs", "", "directory to extract the image's filesystem into")
	if err := fl.Parse(args); err != nil {
		return err
	}
	img, err := layoutImage(*dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*rootfs, 0o755); err != nil {
		return err
	}
	// mutate.Extract flattens the layers (whiteouts applied); tar writes it as the files' owner would.
	rc := mutate.Extract(img)
	defer rc.Close()
	x := exec.Command("tar", "-x", "--no-same-owner", "-C", *rootfs)
	x.Stdin, x.Stderr = rc, os.Stderr
	return x.Run()
}

func inspect(args []string) error {
	fl := flag.NewFlagSet("inspect", flag.ContinueOnError)
	dir := fl.String("layout", "", "OCI layout")
	if err := fl.Parse(args); err != nil {
		return err
	}
	img, err := layoutImage(*dir)
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"digest": digest.String(), "config": cf.Config})
}

func push(args []string) error {
	fl := flag.NewFlagSet("push", flag.ContinueOnError)
	dir := fl.String("layout", "", "OCI layout")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return errors.New("push needs --layout DIR and one reference")
	}
	img, err := layoutImage(*dir)
	if err != nil {
		return err
	}
	r, err := name.ParseReference(fl.Arg(0))
	if err != nil {
		return err
	}
	if err := remote.Write(r, img, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("push %s: %w", fl.Arg(0), err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"digest": digest.String()})
}
