package api

import (
	"net/http"

	"github.com/truce-mvm/truce/internal/gate"
)

// receiptOf returns the handler of a record type's receipts: the entries
// the record rests on and those that added their signers' keys, proven
// under the newest published checkpoint.
func receiptOf(typ string) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		rc, err := s.cfg.Read.Receipt(r.Context(), gate.Viewer(r), typ, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, rc)
		return nil
	}
}
