package asctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Body: string(body), Status: rec.status})
		s.mu.Unlock()
	}()
	if err := s.checkToken(r.Header.Get("Authorization")); err != nil {
		s.violation("%s %s: bad token: %v", r.Method, r.URL.Path, err)
		writeError(rec, http.StatusUnauthorized, "NOT_AUTHORIZED", err.Error())
		return
	}
	if f, ok := s.takeFailure(r.Method); ok {
		writeError(rec, f.status, f.code, f.detail)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "v1" && parts[1] == "apps" && parts[3] == "appAvailabilityV2":
		s.getAppAvailability(rec, r, parts[2])
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "v2" && parts[1] == "appAvailabilities" && parts[3] == "territoryAvailabilities":
		s.listTerritories(rec, r, parts[2])
	case r.Method == http.MethodPatch && len(parts) == 3 && parts[0] == "v1" && parts[1] == "territoryAvailabilities":
		s.patchTerritory(rec, r, parts[2], body)
	default:
		s.violation("unexpected request %s %s", r.Method, r.URL)
		writeError(rec, http.StatusNotFound, "NOT_FOUND", "The URL path is not valid: "+r.URL.Path)
	}
}

func (s *Server) takeFailure(method string) (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.failures {
		if f.method == method {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
			return f, true
		}
	}
	return failure{}, false
}

func (s *Server) availabilityID() string { return "av-" + s.AppID }

func (s *Server) getAppAvailability(w http.ResponseWriter, r *http.Request, appID string) {
	if !s.checkQuery(w, r, nil) {
		return
	}
	if appID != s.AppID {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "There is no resource of type 'apps' with id '"+appID+"'")
		return
	}
	id := s.availabilityID()
	writeJSON(w, http.StatusOK, map[string]any{
		"data": map[string]any{
			"type":       "appAvailabilities",
			"id":         id,
			"attributes": map[string]any{"availableInNewTerritories": true},
			"relationships": map[string]any{"territoryAvailabilities": map[string]any{
				"links": map[string]any{"related": s.URL + "/v2/appAvailabilities/" + id + "/territoryAvailabilities"},
			}},
			"links": map[string]any{"self": s.URL + "/v2/appAvailabilities/" + id},
		},
		"links": map[string]any{"self": s.URL + r.URL.Path},
	})
}

func (s *Server) listTerritories(w http.ResponseWriter, r *http.Request, availID string) {
	allowed := []string{"fields[territoryAvailabilities]", "fields[territories]", "include", "limit", "cursor"}
	if !s.checkQuery(w, r, allowed) {
		return
	}
	q := r.URL.Query()
	if inc := q.Get("include"); inc != "" && inc != "territory" {
		writeError(w, http.StatusBadRequest, "PARAMETER_ERROR.INVALID", "include: unknown relationship "+inc)
		return
	}
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			writeError(w, http.StatusBadRequest, "PARAMETER_ERROR.INVALID", "limit must be 1..200")
			return
		}
		limit = n
	}
	if availID != s.availabilityID() {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "There is no resource of type 'appAvailabilities' with id '"+availID+"'")
		return
	}
	start, _ := strconv.Atoi(q.Get("cursor"))
	size := min(limit, s.PageSize)
	s.mu.Lock()
	end := min(start+size, len(s.territories))
	var data, included []any
	for _, tr := range s.territories[start:end] {
		data = append(data, territoryResource(tr))
		included = append(included, map[string]any{"type": "territories", "id": tr.code, "attributes": map[string]any{"currency": "USD"}})
	}
	total := len(s.territories)
	s.mu.Unlock()
	lk := map[string]any{"self": s.URL + r.URL.RequestURI()}
	if end < total {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", strconv.Itoa(end))
		lk["next"] = s.URL + r.URL.Path + "?" + nq.Encode()
	}
	doc := map[string]any{"data": data, "links": lk, "meta": map[string]any{"paging": map[string]any{"total": total, "limit": limit}}}
	if q.Get("include") == "territory" {
		doc["included"] = included
	}
	writeJSON(w, http.StatusOK, doc)
}

func territoryResource(tr *territory) map[string]any {
	return map[string]any{
		"type": "territoryAvailabilities",
		"id":   tr.id,
		"attributes": map[string]any{"available": tr.available, "releaseDate": nil, "preOrderEnabled": false,
			"preOrderPublishDate": nil, "contentStatuses": []string{"AVAILABLE"}},
		"relationships": map[string]any{"territory": map[string]any{"data": map[string]any{"type": "territories", "id": tr.code}}},
	}
}

// patchTerritory takes a TerritoryAvailabilityUpdateRequest and nothing else.
func (s *Server) patchTerritory(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	if !s.checkQuery(w, r, nil) {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.violation("PATCH with Content-Type %q", r.Header.Get("Content-Type"))
		writeError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
		return
	}
	var doc struct {
		Data struct {
			Type       string `json:"type"`
			ID         string `json:"id"`
			Attributes struct {
				Available *bool `json:"available"`
			} `json:"attributes"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil || doc.Data.Type != "territoryAvailabilities" ||
		doc.Data.ID != id || doc.Data.Attributes.Available == nil {
		s.violation("bad PATCH body %s (%v)", body, err)
		writeError(w, http.StatusConflict, "ENTITY_ERROR", fmt.Sprintf("The request entity is not valid: %s", body))
		return
	}
	s.mu.Lock()
	var found *territory
	for _, tr := range s.territories {
		if tr.id == id {
			found = tr
			tr.available = *doc.Data.Attributes.Available
		}
	}
	var res map[string]any
	if found != nil {
		res = territoryResource(found)
	}
	s.mu.Unlock()
	if found == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "There is no resource of type 'territoryAvailabilities' with id '"+id+"'")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": res, "links": map[string]any{"self": s.URL + r.URL.Path}})
}

// checkQuery refuses query parameters the endpoint does not take.
func (s *Server) checkQuery(w http.ResponseWriter, r *http.Request, allowed []string) bool {
	for k := range r.URL.Query() {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			s.violation("%s %s: unknown parameter %q", r.Method, r.URL.Path, k)
			writeError(w, http.StatusBadRequest, "PARAMETER_ERROR.ILLEGAL", "The parameter '"+k+"' can not be used with this request")
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, map[string]any{"errors": []any{map[string]any{
		"id": "c5a3f1b0-0000-4000-8000-" + fmt.Sprintf("%012d", status), "status": strconv.Itoa(status),
		"code": code, "title": http.StatusText(status), "detail": detail,
	}}})
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
