package web

import (
	"mime"
	"net/http"
	"net/url"
	"reflect"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
)

// evidenceFields are the registration's fields the upload form asks for;
// the hash, size and media type come from the file.
var evidenceFields = func() []field {
	var out []field
	for _, f := range fieldsOf("evidence", reflect.TypeOf(truce.EvidenceRegistration{}), "") {
		switch f.Name {
		case "sha256", "size", "media_type":
			continue
		}
		out = append(out, f)
	}
	return out
}()

func (s *Server) evidenceForm(w http.ResponseWriter, r *http.Request, v *view) error {
	s.renderEvidence(w, v, r.URL.Query(), nil)
	return nil
}

func (s *Server) renderEvidence(w http.ResponseWriter, v *view, values url.Values, errs map[string]string) {
	v.Fields = errs
	d := &formData{Action: "evidence", Fields: append([]field(nil), evidenceFields...)}
	for i := range d.Fields {
		d.Fields[i].Value = values.Get(d.Fields[i].Name)
		d.Fields[i].Error = errs[d.Fields[i].Name]
	}
	s.render(w, v, "evidence", v.L.T("act.register-evidence"), d)
}

// uploadEvidence keeps the file by its hash and registers it, signed with
// the member's custodial key.
func (s *Server) uploadEvidence(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := gate.ParseForm(r); err != nil {
		if truce.ErrorCode(err) == truce.CodeTooLarge {
			return truce.Errorf(truce.CodeTooLarge, "%s", v.L.T("evidence.too_large"))
		}
		return err
	}
	if r.MultipartForm == nil {
		return truce.Errorf(truce.CodeMediaType, "send the file as multipart/form-data")
	}
	defer r.MultipartForm.RemoveAll()
	values := url.Values(r.MultipartForm.Value)
	var body truce.EvidenceRegistration
	errs := readForm(v, reflect.ValueOf(&body).Elem(), values)
	file, header, err := r.FormFile("file")
	if err != nil {
		errs["file"] = v.L.T("evidence.no_file")
	}
	if len(errs) == 0 {
		defer file.Close()
		mt, _, err := mime.ParseMediaType(header.Header.Get("Content-Type"))
		if err != nil {
			mt = "application/octet-stream"
		}
		ack, err := s.cfg.Submit.Evidence(r.Context(), v.who, header.Filename, mt, file, &body)
		if err = nokey(v, err); err == nil {
			http.Redirect(w, r, recordPath(ack.Record.Type, ack.Record.ID), http.StatusSeeOther)
			return nil
		}
		if err := refused(err, v, errs, evidenceFields); err != nil {
			return err
		}
	}
	unprocessable(w, v)
	s.renderEvidence(w, v, values, errs)
	return nil
}
