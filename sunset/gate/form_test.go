package gate

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// multipartBody is a form with a file part before the given fields.
func multipartBody(t *testing.T, fields ...string) (string, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("avatar", "a.png")
	fw.Write(bytes.Repeat([]byte("x"), 4096))
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), b.String()
}

// TestGateFormMethodOverride: a _method field in a form POST's body (Rails,
// Laravel) counts like the override headers, and the app still gets the
// whole body.
func TestGateFormMethodOverride(t *testing.T) {
	clk := newClock(testReadOnlyAt.Add(-time.Hour))
	g := New(&fakeSource{state: blocked}, Options{
		SignupRoutes:  routes(t, "PUT /api/v1/users"),
		ReadOnlyAllow: routes(t, "POST /x", "ANY /any"),
		Now:           clk.now,
	})
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got string
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	}))
	post := func(target, ct, body string) int {
		got = ""
		req := httptest.NewRequest("POST", target, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 200 && got != body {
			t.Errorf("POST %s: the app got %d bytes of %d", target, len(got), len(body))
		}
		return rec.Code
	}
	const form = "application/x-www-form-urlencoded"
	big := "a=" + strings.Repeat("x", maxFormPeek) + "&_method=DELETE"
	mpCT, mpDelete := multipartBody(t, "name", "ana", "_method", "delete")
	mpPostCT, mpPost := multipartBody(t, "name", "ana")

	// Sign-ups blocked, before read-only.
	for _, tc := range []struct {
		name, target, ct, body string
		want                   int
	}{
		{"sign-up route by _method", "/api/v1/users", form, "name=ana&_method=PUT", 410},
		{"sign-up route by _method, charset", "/api/v1/users", form + "; charset=UTF-8", "_method=put", 410},
		{"sign-up route by multipart _method", "/api/v1/users", mpCT, strings.Replace(mpDelete, "delete", "PUT", 1), 410},
		{"plain POST on the sign-up path", "/api/v1/users", form, "name=ana", 200},
		{"big form elsewhere is not read", "/feed", form, big, 200},
	} {
		if code := post(tc.target, tc.ct, tc.body); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}

	clk.set(testReadOnlyAt)
	for _, tc := range []struct {
		name, target, ct, body string
		want                   int
	}{
		{"DELETE by _method through POST /x", "/x", form, "a=1&_method=DELETE", 410},
		{"encoded _method", "/x", form, "a=1&%5Fmethod=patch", 410},
		{"multipart _method after a file", "/x", mpCT, mpDelete, 410},
		{"form too big to read", "/x", form, big, 410},
		{"malformed multipart", "/x", "multipart/form-data; boundary=zzz", "--zzz\r\nbroken", 410},
		{"plain form POST allowed", "/x", form, "a=1", 200},
		{"_method POST allowed", "/x", form, "a=1&_method=POST", 200},
		{"multipart POST allowed", "/x", mpPostCT, mpPost, 200},
		{"ANY entry takes anything", "/any", form, big, 200},
		{"JSON body is not a form", "/x", "application/json", `{"_method":"DELETE"}`, 200},
	} {
		if code := post(tc.target, tc.ct, tc.body); code != tc.want {
			t.Errorf("read-only: %s: %d, want %d", tc.name, code, tc.want)
		}
	}
}
