package api

import (
	"compress/gzip"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/tlog"
	"github.com/truce-mvm/truce/internal/wire"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	h, err := s.cfg.Read.Health(r.Context(), gate.Viewer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Ready == nil {
		return truce.Errorf(truce.CodeNotFound, "no readiness checks on this server")
	}
	rd := s.cfg.Ready(r.Context())
	status := http.StatusOK
	if !rd.Ready {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, rd)
	return nil
}

func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) error {
	_, signed, err := s.cfg.Read.Published(gate.Viewer(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(signed)
	return nil
}

func (s *Server) witnesses(w http.ResponseWriter, r *http.Request) error {
	p, err := s.cfg.Read.Witnesses(gate.Viewer(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p.Peers)
	return nil
}

func (s *Server) vkey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.cfg.Read.VKey(gate.Viewer(r))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(k + "\n"))
	return nil
}

func (s *Server) tile(w http.ResponseWriter, r *http.Request) error {
	t, data, err := s.cfg.Read.Tile(r.Context(), gate.Viewer(r), "tile/"+r.PathValue("path"))
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

func proofJSON(hs []tlog.Hash) wire.Proof {
	p := wire.Proof{Hashes: make([]string, len(hs))}
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

// proof answers a proof between two query parameters.
func (s *Server) proof(w http.ResponseWriter, r *http.Request, a, b string, prove func(x, y int64) ([]tlog.Hash, error)) error {
	x, err := intParam(r, a)
	if err != nil {
		return err
	}
	y, err := intParam(r, b)
	if err != nil {
		return err
	}
	p, err := prove(x, y)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, proofJSON(p))
	return nil
}

func (s *Server) inclusion(w http.ResponseWriter, r *http.Request) error {
	return s.proof(w, r, "index", "size", func(index, size int64) ([]tlog.Hash, error) {
		return s.cfg.Read.InclusionProof(r.Context(), gate.Viewer(r), index, size)
	})
}

func (s *Server) consistency(w http.ResponseWriter, r *http.Request) error {
	return s.proof(w, r, "old", "size", func(old, size int64) ([]tlog.Hash, error) {
		return s.cfg.Read.ConsistencyProof(r.Context(), gate.Viewer(r), old, size)
	})
}
