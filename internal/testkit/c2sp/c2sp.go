// Package c2sp is an independent verifier of a C2SP tlog-tiles log over
// HTTP, for tests. It shares no Merkle code with the server: hashing,
// roots and proofs are github.com/transparency-dev/merkle's, checkpoints
// github.com/transparency-dev/formats', and tile paths are formatted here
// from the specification.
package c2sp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Result is what a verified log holds.
type Result struct {
	Origin     string
	Size       uint64
	Root       []byte
	Checkpoint []byte
	Leaves     [][]byte
}

var hasher = rfc6962.DefaultHasher

// Verify fetches base/checkpoint, base/vkey-checked signature, every entry
// bundle and hash tile of the checkpointed tree, and checks that they are
// one tree with the checkpoint's root; then asks the server for proofs and
// checks them too.
// A token, if given, is sent as a bearer token (logs that only members and
// witnesses may read).
func Verify(ctx context.Context, base, origin, vkey, token string) (*Result, error) {
	ctx = context.WithValue(ctx, tokenKey{}, token)
	res, leafHashes, err := verifyTiles(ctx, base, origin, vkey)
	if err != nil {
		return nil, err
	}
	return res, verifyProofs(ctx, base, res, leafHashes)
}

// VerifyStatic is Verify for a log served as static files (a mirror): the
// checkpoint, every entry bundle and hash tile, and the tree they make,
// without the proof endpoints, which are not tlog-tiles files.
func VerifyStatic(ctx context.Context, base, origin, vkey string) (*Result, error) {
	res, _, err := verifyTiles(context.WithValue(ctx, tokenKey{}, ""), base, origin, vkey)
	return res, err
}

// verifyTiles checks the checkpoint and the tiles of its tree, and
// returns the log's leaves and their hashes.
func verifyTiles(ctx context.Context, base, origin, vkey string) (*Result, [][]byte, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("vkey: %w", err)
	}
	raw, err := get(ctx, base+"/checkpoint", "text/plain; charset=utf-8")
	if err != nil {
		return nil, nil, err
	}
	cp, _, _, err := log.ParseCheckpoint(raw, origin, v)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	res := &Result{Origin: cp.Origin, Size: cp.Size, Root: cp.Hash, Checkpoint: raw}

	// Entry bundles and level-0 tiles.
	rf := compact.RangeFactory{Hash: hasher.HashChildren}
	cr := rf.NewEmptyRange(0)
	var leafHashes [][]byte
	for n := uint64(0); n*256 < cp.Size; n++ {
		w := min(256, cp.Size-n*256)
		bundle, err := get(ctx, base+"/"+path("entries", n, w), "application/octet-stream")
		if err != nil {
			return nil, nil, err
		}
		entries, err := split(bundle)
		if err != nil {
			return nil, nil, fmt.Errorf("bundle %d: %w", n, err)
		}
		if uint64(len(entries)) != w {
			return nil, nil, fmt.Errorf("bundle %d has %d entries, want %d", n, len(entries), w)
		}
		tile, err := get(ctx, base+"/"+path("0", n, w), "application/octet-stream")
		if err != nil {
			return nil, nil, err
		}
		if uint64(len(tile)) != 32*w {
			return nil, nil, fmt.Errorf("tile 0/%d is %d bytes, want %d", n, len(tile), 32*w)
		}
		for i, e := range entries {
			h := hasher.HashLeaf(e)
			if !bytes.Equal(h, tile[32*i:32*i+32]) {
				return nil, nil, fmt.Errorf("entry %d does not hash to its level-0 tile hash", n*256+uint64(i))
			}
			leafHashes = append(leafHashes, h)
			res.Leaves = append(res.Leaves, e)
			if err := cr.Append(h, nil); err != nil {
				return nil, nil, err
			}
		}
	}
	root, err := cr.GetRootHash(nil)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(root, cp.Hash) {
		return nil, nil, fmt.Errorf("entries give root %x, checkpoint says %x", root, cp.Hash)
	}
	// Higher tiles: each hash is the root of a full tile below.
	below := leafHashes
	for level := 1; uint64(len(below)) >= 256; level++ {
		var next [][]byte
		for i := 0; i+256 <= len(below); i += 256 {
			r := rf.NewEmptyRange(0)
			for _, h := range below[i : i+256] {
				r.Append(h, nil)
			}
			h, _ := r.GetRootHash(nil)
			next = append(next, h)
		}
		for n := uint64(0); n*256 < uint64(len(next)); n++ {
			w := min(256, uint64(len(next))-n*256)
			tile, err := get(ctx, base+"/"+path(fmt.Sprint(level), n, w), "application/octet-stream")
			if err != nil {
				return nil, nil, err
			}
			if !bytes.Equal(tile, bytes.Join(next[n*256:n*256+w], nil)) {
				return nil, nil, fmt.Errorf("tile %d/%d does not hold the roots of the tiles below", level, n)
			}
		}
		below = next
	}
	return res, leafHashes, nil
}

// verifyProofs checks that the server's proofs verify against the
// checkpoint.
func verifyProofs(ctx context.Context, base string, res *Result, leafHashes [][]byte) error {
	cp := log.Checkpoint{Size: res.Size, Hash: res.Root}
	rf := compact.RangeFactory{Hash: hasher.HashChildren}
	for _, i := range []uint64{0, cp.Size / 2, cp.Size - 1} {
		p, err := getProof(ctx, fmt.Sprintf("%s/proof/inclusion?index=%d&size=%d", base, i, cp.Size))
		if err != nil {
			return err
		}
		if err := proof.VerifyInclusion(hasher, i, cp.Size, leafHashes[i], p, cp.Hash); err != nil {
			return fmt.Errorf("inclusion proof of %d: %w", i, err)
		}
	}
	for _, old := range []uint64{1, cp.Size / 3, cp.Size} {
		if old == 0 {
			continue
		}
		p, err := getProof(ctx, fmt.Sprintf("%s/proof/consistency?old=%d&size=%d", base, old, cp.Size))
		if err != nil {
			return err
		}
		r := rf.NewEmptyRange(0)
		for _, h := range leafHashes[:old] {
			r.Append(h, nil)
		}
		oldRoot, _ := r.GetRootHash(nil)
		if err := proof.VerifyConsistency(hasher, old, cp.Size, p, oldRoot, cp.Hash); err != nil {
			return fmt.Errorf("consistency proof from %d: %w", old, err)
		}
	}
	return nil
}

// Consistent checks that the log at base, as its checkpoint now stands,
// extends the tree of old, a checkpoint it signed earlier: both verify
// with vkey, and the server's consistency proof between them verifies.
// It returns the size the log has now.
func Consistent(ctx context.Context, base, origin, vkey, token string, old []byte) (uint64, error) {
	ctx = context.WithValue(ctx, tokenKey{}, token)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return 0, fmt.Errorf("vkey: %w", err)
	}
	was, _, _, err := log.ParseCheckpoint(old, origin, v)
	if err != nil {
		return 0, fmt.Errorf("the old checkpoint: %w", err)
	}
	raw, err := get(ctx, base+"/checkpoint", "text/plain; charset=utf-8")
	if err != nil {
		return 0, err
	}
	now, _, _, err := log.ParseCheckpoint(raw, origin, v)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	if now.Size < was.Size {
		return 0, fmt.Errorf("the log shrank from %d to %d", was.Size, now.Size)
	}
	if now.Size == was.Size {
		if !bytes.Equal(now.Hash, was.Hash) {
			return 0, fmt.Errorf("two roots for size %d: a fork", now.Size)
		}
		return now.Size, nil
	}
	p, err := getProof(ctx, fmt.Sprintf("%s/proof/consistency?old=%d&size=%d", base, was.Size, now.Size))
	if err != nil {
		return 0, err
	}
	if err := proof.VerifyConsistency(hasher, was.Size, now.Size, p, was.Hash, now.Hash); err != nil {
		return 0, fmt.Errorf("consistency proof from %d to %d: %w", was.Size, now.Size, err)
	}
	return now.Size, nil
}

// path formats a tile path per tlog-tiles: N in zero-padded 3-digit
// elements, all but the last prefixed with x, and .p/W for partial tiles.
func path(level string, n, w uint64) string {
	elems := []string{fmt.Sprintf("%03d", n%1000)}
	for n >= 1000 {
		n /= 1000
		elems = append([]string{fmt.Sprintf("x%03d", n%1000)}, elems...)
	}
	p := "tile/" + level + "/" + strings.Join(elems, "/")
	if w < 256 {
		p += fmt.Sprintf(".p/%d", w)
	}
	return p
}

func split(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("truncated")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("truncated")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

func get(ctx context.Context, url, contentType string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Accept-Encoding", "gzip, identity")
	if tok, _ := ctx.Value(tokenKey{}).(string); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression: check it ourselves
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if body, err = gzip.NewReader(resp.Body); err != nil {
			return nil, err
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	if got := resp.Header.Get("Content-Type"); contentType != "" && got != contentType {
		return nil, fmt.Errorf("GET %s: Content-Type %q, want %q", url, got, contentType)
	}
	return b, nil
}

func getProof(ctx context.Context, url string) ([][]byte, error) {
	b, err := get(ctx, url, "application/json; charset=utf-8")
	if err != nil {
		return nil, err
	}
	var p struct {
		Hashes []string `json:"hashes"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	out := make([][]byte, len(p.Hashes))
	for i, h := range p.Hashes {
		if out[i], err = base64.StdEncoding.DecodeString(h); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type tokenKey struct{}
