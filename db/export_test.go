package db

import "time"

// What the store tests of package db_test need to see of the vehicle list.

// VehicleListSQL returns the statements Vehicles would run for these
// arguments, with their arguments.
func VehicleListSQL(orgID string, first *int, after *string, f VehicleFilter) (page string, pageArgs []any, count string, countArgs []any, err error) {
	q, err := vehicleListQuery(orgID, first, after, f)
	return q.page, q.pageArgs, q.count, q.countArgs, err
}

// VehicleCursor is the cursor of the list position of a vehicle.
func VehicleCursor(createdAt time.Time, id string) string {
	return encodeCursor(createdAt.UTC().Format(time.RFC3339Nano), id)
}

// StaffHotStatements are the statements every staff request (the bearer
// token) and the seeding mutations run, by what they do.
var StaffHotStatements = map[string]string{
	"token owner":        sqlViewer,
	"createVehicle":      sqlInsertVehicle,
	"createTrackingLink": sqlCreateLink,
}
