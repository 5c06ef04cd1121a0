package api

import (
	"compress/gzip"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/witness"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Seq.Err(); err != nil {
		return truce.Errorf(truce.CodeUnavailable, "the log is not accepting entries: %v", err)
	}
	size := int64(0)
	if cp := s.cfg.Seq.Checkpoint(); cp != nil {
		size = cp.Size
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "origin": s.cfg.Seq.Origin(), "size": size})
	return nil
}

// Published returns the newest published checkpoint: with witnesses, the
// newest enough of them cosigned; without, the newest the log signed.
func (s *Server) Published() (size int64, signed []byte) {
	if s.cfg.Witnesses != nil {
		if p := s.cfg.Witnesses.Published(); p != nil {
			return p.Size, p.Note
		}
		return 0, nil
	}
	if cp := s.cfg.Seq.Checkpoint(); cp != nil {
		return cp.Size, cp.Signed
	}
	return 0, nil
}

func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) error {
	_, signed := s.Published()
	if signed == nil && s.cfg.Witnesses != nil {
		return truce.Errorf(truce.CodeUnavailable, "no checkpoint has been cosigned by %d witnesses yet", s.cfg.Witnesses.Policy().Quorum)
	}
	if signed == nil {
		return truce.Errorf(truce.CodeNotFound, "no checkpoint yet")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(signed)
	return nil
}

func (s *Server) witnesses(w http.ResponseWriter, r *http.Request) error {
	peers := []witness.Peer{}
	if s.cfg.Witnesses != nil {
		peers = append(peers, s.cfg.Witnesses.Policy().Peers...)
	}
	writeJSON(w, http.StatusOK, peers)
	return nil
}

func (s *Server) vkey(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(s.cfg.VKey + "\n"))
	return nil
}

func (s *Server) tile(w http.ResponseWriter, r *http.Request) error {
	path := "tile/" + r.PathValue("path")
	t, err := tlog.ParseTilePath(path)
	if err != nil {
		return truce.Errorf(truce.CodeNotFound, "%v", err)
	}
	data, err := s.cfg.Seq.Tiles().ReadTile(r.Context(), t.L, t.N)
	if err == nil {
		data, err = tlog.TrimTile(t, data)
	}
	if errors.Is(err, tlog.ErrNotFound) {
		return truce.Errorf(truce.CodeNotFound, "%s is not in the log", path)
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "public, max-age=31536000, immutable") // a tile's content never changes
	if t.L == -1 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		gz := gzip.NewWriter(w)
		gz.Write(data)
		return gz.Close()
	}
	w.Write(data)
	return nil
}

// Proof is the JSON form of a Merkle proof.
type Proof struct {
	Hashes []string `json:"hashes"`
}

func proofJSON(hs []tlog.Hash) Proof {
	p := Proof{Hashes: make([]string, len(hs))}
	for i, h := range hs {
		p.Hashes[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return p
}

// intParam reads a required non-negative integer query parameter.
func intParam(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if v == "" || err != nil || n < 0 {
		return 0, truce.FieldErrorf(truce.CodeInvalid, name, "must be a non-negative integer")
	}
	return n, nil
}

// signedSize checks that size is covered by the newest checkpoint, so
// every proof served is against a signed tree.
func (s *Server) signedSize(size int64) error {
	cp := s.cfg.Seq.Checkpoint()
	if cp == nil || size > cp.Size {
		newest := int64(0)
		if cp != nil {
			newest = cp.Size
		}
		return truce.FieldErrorf(truce.CodeInvalid, "size", "%d is beyond the newest checkpoint (%d)", size, newest)
	}
	return nil
}

func (s *Server) inclusion(w http.ResponseWriter, r *http.Request) error {
	index, err := intParam(r, "index")
	if err != nil {
		return err
	}
	size, err := intParam(r, "size")
	if err != nil {
		return err
	}
	if err := s.signedSize(size); err != nil {
		return err
	}
	if index >= size {
		return truce.FieldErrorf(truce.CodeInvalid, "index", "%d is not in a tree of size %d", index, size)
	}
	p, err := tlog.InclusionProof(r.Context(), s.cfg.Seq.Tiles(), index, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, proofJSON(p))
	return nil
}

func (s *Server) consistency(w http.ResponseWriter, r *http.Request) error {
	old, err := intParam(r, "old")
	if err != nil {
		return err
	}
	size, err := intParam(r, "size")
	if err != nil {
		return err
	}
	if err := s.signedSize(size); err != nil {
		return err
	}
	if old < 1 || old > size {
		return truce.FieldErrorf(truce.CodeInvalid, "old", "must be between 1 and size (%d)", size)
	}
	p, err := tlog.ConsistencyProof(r.Context(), s.cfg.Seq.Tiles(), old, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, proofJSON(p))
	return nil
}
