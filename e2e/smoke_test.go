package e2e

import (
	"testing"

	"importops/apptest"
)

func TestSmoke(t *testing.T) {
	env := apptest.New(t, testDB)
	org := env.NewOrg(t, "Smoke Imports", "NZ")
	var created struct {
		CreateVehicle struct{ ID, Title string }
	}
	env.Do(t, org.Token, `mutation { createVehicle(input:{year:2019, make:"Toyota", model:"Land Cruiser", vin:"JTMHV05J604123456", agreedSalePrice:{amount:"12500", currency:"NZD"}}) { id title } }`, nil).Decode(t, &created)
	var link struct {
		CreateTrackingLink struct{ Slug, URL string }
	}
	env.Do(t, org.Token, `mutation($id:ID!) { createTrackingLink(vehicleId:$id) { slug url } }`, apptest.Vars{"id": created.CreateVehicle.ID}).Decode(t, &link)
	res := env.Do(t, "", `query($s:String!) { publicTracking(slug:$s) { organization { name locale } vehicle { title } progress { current stages { stage reached current label } } notes { body } photos { url } } }`, apptest.Vars{"s": link.CreateTrackingLink.Slug})
	t.Logf("%s", res.Body)
	res = env.Do(t, org.Token, `{ vehicles { totalCount edges { node { title vin agreedSalePrice { amount currency } trackingLink { url } } } } }`, nil)
	t.Logf("%s", res.Body)
}
