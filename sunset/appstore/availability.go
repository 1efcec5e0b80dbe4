package appstore

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// JSON:API documents, as far as this client reads them.

type resourceID struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type links struct {
	Self string `json:"self,omitempty"`
	Next string `json:"next,omitempty"`
}

type appAvailabilityDoc struct {
	Data struct {
		resourceID
		Attributes struct {
			AvailableInNewTerritories bool `json:"availableInNewTerritories"`
		} `json:"attributes"`
	} `json:"data"`
}

type territoryAvailabilityResource struct {
	resourceID
	Attributes struct {
		Available bool `json:"available"`
	} `json:"attributes"`
	Relationships struct {
		Territory struct {
			Data *resourceID `json:"data"`
		} `json:"territory"`
	} `json:"relationships"`
}

type territoryAvailabilitiesDoc struct {
	Data  []territoryAvailabilityResource `json:"data"`
	Links links                           `json:"links"`
}

type territoryAvailabilityDoc struct {
	Data territoryAvailabilityResource `json:"data"`
}

// updateDoc is a TerritoryAvailabilityUpdateRequest.
type updateDoc struct {
	Data struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Available bool `json:"available"`
		} `json:"attributes"`
	} `json:"data"`
}

// AppAvailability is an app's v2 availability resource.
type AppAvailability struct {
	ID                        string
	AvailableInNewTerritories bool
}

// TerritoryAvailability is the app's availability in one territory.
type TerritoryAvailability struct {
	ID        string // the territoryAvailabilities resource id
	Territory string // e.g. USA
	Available bool
}

func (r territoryAvailabilityResource) value() TerritoryAvailability {
	t := TerritoryAvailability{ID: r.ID, Available: r.Attributes.Available}
	if d := r.Relationships.Territory.Data; d != nil {
		t.Territory = d.ID
	}
	return t
}

// AppAvailability reads the app's availability resource.
func (c *Client) AppAvailability(ctx context.Context, appID string) (AppAvailability, error) {
	var doc appAvailabilityDoc
	if err := c.do(ctx, "GET", "/v1/apps/"+url.PathEscape(appID)+"/appAvailabilityV2", nil, &doc); err != nil {
		return AppAvailability{}, err
	}
	if doc.Data.Type != "appAvailabilities" || doc.Data.ID == "" {
		return AppAvailability{}, fmt.Errorf("App Store Connect: app %s: unexpected availability resource %q", appID, doc.Data.Type)
	}
	return AppAvailability{ID: doc.Data.ID, AvailableInNewTerritories: doc.Data.Attributes.AvailableInNewTerritories}, nil
}

// TerritoryAvailabilities lists the availability in every territory,
// following the pagination links.
func (c *Client) TerritoryAvailabilities(ctx context.Context, availabilityID string) ([]TerritoryAvailability, error) {
	q := url.Values{}
	q.Set("fields[territoryAvailabilities]", "available,territory")
	q.Set("include", "territory")
	q.Set("limit", "200")
	next := "/v2/appAvailabilities/" + url.PathEscape(availabilityID) + "/territoryAvailabilities?" + q.Encode()
	var out []TerritoryAvailability
	for pages := 0; next != ""; pages++ {
		if pages == 100 {
			return nil, fmt.Errorf("App Store Connect: more than 100 pages of territories")
		}
		var doc territoryAvailabilitiesDoc
		if err := c.do(ctx, "GET", next, nil, &doc); err != nil {
			return nil, err
		}
		for _, r := range doc.Data {
			out = append(out, r.value())
		}
		next = doc.Links.Next
	}
	return out, nil
}

// SetAvailable changes the app's availability in one territory.
func (c *Client) SetAvailable(ctx context.Context, territoryAvailabilityID string, available bool) (TerritoryAvailability, error) {
	var body updateDoc
	body.Data.Type, body.Data.ID, body.Data.Attributes.Available = "territoryAvailabilities", territoryAvailabilityID, available
	var doc territoryAvailabilityDoc
	err := c.do(ctx, "PATCH", "/v1/territoryAvailabilities/"+url.PathEscape(territoryAvailabilityID), body, &doc)
	if err != nil {
		return TerritoryAvailability{}, err
	}
	return doc.Data.value(), nil
}

// Removal is what RemoveFromSale did and read back.
type Removal struct {
	AvailabilityID            string
	Territories               int      // territories the app has an availability in
	Changed                   []string // territories made unavailable now
	StillAvailable            []string // read back as available: should be none
	AvailableInNewTerritories bool
}

// RemoveFromSale makes the app unavailable in every territory where it is
// available, then reads the availability back. It is idempotent: a second
// call changes nothing and confirms again. It fails if any territory still
// reads as available.
func (c *Client) RemoveFromSale(ctx context.Context, appID string) (Removal, error) {
	av, err := c.AppAvailability(ctx, appID)
	if err != nil {
		return Removal{}, err
	}
	rem := Removal{AvailabilityID: av.ID, AvailableInNewTerritories: av.AvailableInNewTerritories}
	ts, err := c.TerritoryAvailabilities(ctx, av.ID)
	if err != nil {
		return rem, err
	}
	for _, t := range ts {
		if !t.Available {
			continue
		}
		if _, err := c.SetAvailable(ctx, t.ID, false); err != nil {
			return rem, fmt.Errorf("make unavailable in %s (%d done before): %w", t.Territory, len(rem.Changed), err)
		}
		rem.Changed = append(rem.Changed, t.Territory)
	}
	back, err := c.TerritoryAvailabilities(ctx, av.ID)
	if err != nil {
		return rem, fmt.Errorf("read availability back: %w", err)
	}
	rem.Territories = len(back)
	for _, t := range back {
		if t.Available {
			rem.StillAvailable = append(rem.StillAvailable, t.Territory)
		}
	}
	if len(rem.StillAvailable) > 0 {
		sort.Strings(rem.StillAvailable)
		return rem, fmt.Errorf("App Store Connect: app %s still reads as available in %d territories: %s",
			appID, len(rem.StillAvailable), strings.Join(rem.StillAvailable, ", "))
	}
	return rem, nil
}

// Delister takes one app off the App Store; it satisfies sunset.Delister.
type Delister struct {
	Client *Client
	AppID  string
}

// Delist removes the app from sale everywhere and describes what it found.
func (d Delister) Delist(ctx context.Context) (string, error) {
	rem, err := d.Client.RemoveFromSale(ctx, d.AppID)
	if err != nil {
		return "", err
	}
	ev := fmt.Sprintf("App Store app %s: made unavailable in %d territories; read back: available in 0 of %d",
		d.AppID, len(rem.Changed), rem.Territories)
	if rem.AvailableInNewTerritories {
		ev += "; note: availableInNewTerritories is still on (territories Apple adds later would list the app; turn it off under Pricing and Availability)"
	}
	return ev, nil
}
