//! The `georeport` Open311 client from PyPI (`tests/python/georeport_client.py`)
//! against a running wangge server with the demo county: it posts a
//! request without a description, then reads the services, a service
//! definition, that request and the list, in JSON and in XML. What it read
//! must be what wangge's own API says.

mod support;

use serde_json::Value;

use support::python::{python, run_ok, script};
use support::server::{pick_point, spawn_demo_server};

#[test]
fn the_georeport_client_reads_services_and_requests_in_both_formats() {
    let server = spawn_demo_server();
    let target = pick_point(&server.state().index());
    let out = run_ok(
        std::process::Command::new(python())
            .arg(script("georeport_client.py"))
            .arg(server.base_url())
            .arg(server.admin_token())
            .arg(target.point.lat.to_string())
            .arg(target.point.lon.to_string()),
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    let id = read["posted"].as_str().expect("an id").to_owned();

    let (status, categories) = server
        .api("GET", "/api/incidents/categories", None)
        .expect("categories");
    assert_eq!(status, 200);
    let codes: Vec<Value> = categories
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["code"].clone())
        .collect();
    let names: Vec<Value> = categories
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    let (status, incident) = server
        .api("GET", &format!("/api/incidents/{id}"), None)
        .expect("the incident");
    assert_eq!(status, 200);
    let incident = &incident["incident"];
    let basic_grid = &target.chain.last().expect("a chain").1;

    for format in ["json", "xml"] {
        let got = &read[format];
        assert_eq!(got["service_codes"], Value::from(codes.clone()), "{format}");
        assert_eq!(got["service_names"], Value::from(names.clone()), "{format}");
        assert_eq!(got["definition_code"], codes[0], "{format}");
        let request = &got["request"];
        assert_eq!(request["service_request_id"], id.as_str(), "{format}");
        assert_eq!(request["status"], "open", "{format}");
        assert_eq!(request["service_code"], "sanitation", "{format}");
        assert_eq!(request["description"], incident["description"], "{format}");
        assert_eq!(
            request["lat"].as_str().and_then(|l| l.parse::<f64>().ok()),
            Some(target.point.lat),
            "{format}"
        );
        assert_eq!(
            request["long"].as_str().and_then(|l| l.parse::<f64>().ok()),
            Some(target.point.lon),
            "{format}"
        );
        assert!(
            request["address_id"]
                .as_str()
                .is_some_and(|a| a.starts_with(basic_grid.as_str())),
            "{format}: {request} is not in {basic_grid}"
        );
        // The demo's incidents are older than 90 days; the list's default
        // window holds the new one.
        assert!(
            got["listed_ids"]
                .as_array()
                .expect("ids")
                .contains(&Value::from(id.as_str())),
            "{format}: {got}"
        );
    }
}
