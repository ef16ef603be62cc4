//! The incident half of the store contract, run unchanged on both backends
//! (`sqlite::<case>` and `postgis::<case>`): categories, recording, reading
//! back, listing with every filter, history, and the version guard that
//! keeps two dispatchers from both applying a change.

#[macro_use]
mod support;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use wangge::geom::{Bbox, InputCrs, LonLat};
use wangge::model::{
    EventKind, GridChain, GridId, Incident, IncidentId, Level, Person, ReportSource, ReportedPoint,
};
use wangge::store::{Backend, IncidentFilter, NewEvent, NewIncident, StoreError};
use wangge::workflow::{Action, Severity, Status, Tier, WorkflowKind};

use support::{DirectWrites, TestStore};

conformance!(
    categories_are_the_countys_list,
    an_incident_round_trips_with_its_first_history_entry,
    changes_append_history_and_bump_the_version,
    a_stale_version_changes_nothing,
    an_unknown_category_records_nothing,
    a_batch_is_recorded_whole_or_not_at_all,
    the_report_writer_groups_reports_and_isolates_a_bad_one,
    filters_select_exactly,
);

/// A fixed clock: 2026-03-01 08:00 UTC.
fn t0() -> Timestamp {
    "2026-03-01T08:00:00Z".parse().expect("a time")
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn chain(ids: [&str; 5]) -> GridChain {
    ids.map(|id| (!id.is_empty()).then(|| GridId::from(id)))
}

/// An incident at `(lon, lat)` in the given chain, reported `at`.
fn new_incident(
    category: &str,
    lon: f64,
    lat: f64,
    grids: [&str; 5],
    at: Timestamp,
) -> NewIncident {
    let workflow = if category == "dispute" {
        WorkflowKind::Dispute
    } else {
        WorkflowKind::CommunityIssue
    };
    NewIncident {
        category: category.into(),
        workflow,
        severity: Severity::Minor,
        description: format!("{category} at {lon},{lat}"),
        reporter: Some(Person {
            name: "王芳".into(),
            phone: "13800000001".into(),
        }),
        source: ReportSource::Citizen,
        photos: vec!["https://photos.example/1.jpg".into()],
        point: ReportedPoint {
            wgs84: LonLat::new(lon, lat),
            original: LonLat::new(lon + 0.005, lat - 0.002),
            crs: InputCrs::Gcj02,
        },
        grid_version: None,
        chain: chain(grids),
        tier: Tier::grid(Level::new(4).expect("level")),
        responsible: Some(Person {
            name: "李明".into(),
            phone: "13900000002".into(),
        }),
        reported_at: at,
        deadline: at + hours(24),
        actor: "dispatcher-1".into(),
        note: Some("电话报告".into()),
    }
}

/// Record an incident at the county's middle, reported at [`t0`].
async fn record(t: &TestStore, category: &str, grids: [&str; 5]) -> Incident {
    let new = new_incident(category, 106.1, 34.7, grids, t0());
    t.store.create_incident(&new).await.expect("recorded")
}

/// Store a change that must succeed.
async fn apply(t: &TestStore, before: &Incident, after: &Incident, event: &NewEvent) -> Incident {
    t.store
        .update_incident(before, after, event)
        .await
        .expect("updated")
}

async fn categories_are_the_countys_list(t: &TestStore) {
    let categories = t.store.categories().await.expect("categories");
    let got: Vec<(&str, &str, WorkflowKind)> = categories
        .iter()
        .map(|c| (c.code.as_str(), c.name.as_str(), c.workflow))
        .collect();
    assert_eq!(
        got,
        [
            ("dispute", "矛盾纠纷", WorkflowKind::Dispute),
            ("safety_hazard", "安全隐患", WorkflowKind::CommunityIssue),
            ("public_order", "治安", WorkflowKind::CommunityIssue),
            ("sanitation", "环境卫生", WorkflowKind::CommunityIssue),
            ("infrastructure", "水电暖气", WorkflowKind::CommunityIssue),
            ("other", "其他", WorkflowKind::CommunityIssue),
        ],
        "{}",
        t.name
    );
}

async fn an_incident_round_trips_with_its_first_history_entry(t: &TestStore) {
    let new = new_incident("dispute", 106.1, 34.7, ["t", "v", "g", "b", ""], t0());
    let stored = t.store.create_incident(&new).await.expect("recorded");
    assert_eq!(stored.id, IncidentId(1));
    assert_eq!(stored.category, "dispute");
    assert_eq!(stored.workflow, WorkflowKind::Dispute);
    assert_eq!(stored.status, Status::Found, "disputes start found");
    assert_eq!(stored.reporter, new.reporter);
    assert_eq!(stored.source, ReportSource::Citizen);
    assert_eq!(stored.photos, new.photos);
    assert_eq!(stored.point, new.point, "both points, exactly");
    assert_eq!(stored.chain, new.chain);
    assert_eq!(stored.tier, new.tier);
    assert_eq!(stored.responsible, new.responsible);
    assert_eq!(stored.owner, None);
    assert_eq!(stored.reported_at, t0());
    assert_eq!(stored.updated_at, t0());
    assert_eq!(stored.tier_since, t0());
    assert_eq!(stored.deadline, t0() + hours(24));
    assert_eq!(stored.version, 1);
    assert_eq!(
        stored.handling_grid(),
        Some(&GridId::from("b")),
        "the basic grid handles it"
    );

    // Read back, also through a second pool (as after a restart).
    let again = t.reopen().await;
    let read = again
        .incident(stored.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read, stored, "{}", t.name);
    assert_eq!(t.store.incident(IncidentId(99)).await.expect("read"), None);

    let history = t.store.history(stored.id).await.expect("history");
    assert_eq!(history.len(), 1);
    let created = &history[0];
    assert_eq!(created.seq, 1);
    assert_eq!(created.kind, EventKind::Created);
    assert_eq!(created.actor, "dispatcher-1");
    assert_eq!(created.at, t0());
    assert_eq!(created.status, (Status::Found, Status::Found));
    assert_eq!(created.note.as_deref(), Some("电话报告"));
}

/// The next state of an incident after an action, as the server would make
/// it (the store does not judge workflows; it records).
fn advanced(i: &Incident, status: Status, at: Timestamp) -> Incident {
    Incident {
        status,
        updated_at: at,
        ..i.clone()
    }
}

fn event(at: Timestamp, kind: EventKind, action: Option<Action>, note: &str) -> NewEvent {
    NewEvent {
        at,
        actor: "head-of-centre".into(),
        kind,
        action,
        note: Some(note.into()),
        detail: json!({"why": note}),
    }
}

async fn changes_append_history_and_bump_the_version(t: &TestStore) {
    let first = record(t, "dispute", ["t", "v", "g", "b", ""]).await;
    let at = t0() + hours(1);
    let reported = apply(
        t,
        &first,
        &advanced(&first, Status::Reported, at),
        &event(
            at,
            EventKind::Transition,
            Some(Action::Report),
            "信息员上报",
        ),
    )
    .await;
    assert_eq!(reported.status, Status::Reported);
    assert_eq!(reported.version, 2);
    assert_eq!(reported.updated_at, at);

    // Escalate to the village: tier, responsible person, clock.
    let later = t0() + hours(30);
    let village = Tier::grid(Level::new(2).expect("level"));
    let escalated = apply(
        t,
        &reported,
        &Incident {
            tier: village,
            tier_since: later,
            deadline: later + hours(72),
            responsible: Some(Person {
                name: "村支书".into(),
                phone: String::new(),
            }),
            owner: Some(Person {
                name: "包案领导".into(),
                phone: "0938-1".into(),
            }),
            follow_up_due: Some(later + hours(240)),
            resolved_at: Some(later),
            updated_at: later,
            ..reported.clone()
        },
        &event(later, EventKind::Escalated, None, "overdue"),
    )
    .await;
    assert_eq!(escalated.version, 3);
    assert_eq!(escalated.tier, village);
    assert_eq!(escalated.handling_grid(), Some(&GridId::from("v")));
    assert_eq!(
        escalated.owner.as_ref().map(|p| p.phone.as_str()),
        Some("0938-1")
    );
    assert_eq!(escalated.follow_up_due, Some(later + hours(240)));
    assert_eq!(
        t.store.incident(first.id).await.expect("read"),
        Some(escalated.clone())
    );

    let history = t.store.history(first.id).await.expect("history");
    type Step = (i64, EventKind, Option<Action>, Status, Status, Tier, Tier);
    let summary: Vec<Step> = history
        .iter()
        .map(|h| {
            (
                h.seq, h.kind, h.action, h.status.0, h.status.1, h.tier.0, h.tier.1,
            )
        })
        .collect();
    let basic = Tier::grid(Level::new(4).expect("level"));
    assert_eq!(
        summary,
        [
            (
                1,
                EventKind::Created,
                None,
                Status::Found,
                Status::Found,
                basic,
                basic
            ),
            (
                2,
                EventKind::Transition,
                Some(Action::Report),
                Status::Found,
                Status::Reported,
                basic,
                basic
            ),
            (
                3,
                EventKind::Escalated,
                None,
                Status::Reported,
                Status::Reported,
                basic,
                village
            ),
        ],
        "{}",
        t.name
    );
    assert_eq!(history[2].detail, json!({"why": "overdue"}));
}

async fn a_stale_version_changes_nothing(t: &TestStore) {
    let first = record(t, "sanitation", ["t", "", "", "", ""]).await;
    let at = t0() + hours(1);
    let verified = apply(
        t,
        &first,
        &advanced(&first, Status::Verified, at),
        &event(at, EventKind::Transition, Some(Action::Verify), "核实"),
    )
    .await;
    // A second dispatcher still holds version 1.
    let err = t
        .store
        .update_incident(
            &first,
            &advanced(&first, Status::Dismissed, at),
            &event(at, EventKind::Transition, Some(Action::Dismiss), "重复"),
        )
        .await
        .expect_err("version 1 is stale");
    assert!(
        matches!(err, StoreError::Conflict { id, version: 1 } if id == first.id),
        "{err}"
    );
    assert_eq!(
        t.store.incident(first.id).await.expect("read"),
        Some(verified)
    );
    assert_eq!(t.store.history(first.id).await.expect("history").len(), 2);
}

async fn an_unknown_category_records_nothing(t: &TestStore) {
    let err = t
        .store
        .create_incident(&new_incident(
            "weather",
            106.1,
            34.7,
            ["t", "", "", "", ""],
            t0(),
        ))
        .await
        .expect_err("no such category");
    assert!(matches!(err, StoreError::Database { .. }), "{err}");
    let page = t
        .store
        .incidents(&IncidentFilter::default(), 10, 0)
        .await
        .expect("list");
    assert_eq!(page.total, 0);
    // Nothing half-written either: the next incident has exactly its own
    // first history entry.
    let ok = record(t, "other", ["t", "", "", "", ""]).await;
    assert_eq!(t.store.history(ok.id).await.expect("history").len(), 1);
}

async fn a_batch_is_recorded_whole_or_not_at_all(t: &TestStore) {
    let news: Vec<NewIncident> = (0..3)
        .map(|i| {
            let at = t0() + hours(i);
            new_incident(
                "sanitation",
                106.1 + i as f64 * 0.01,
                34.7,
                ["t", "", "", "", ""],
                at,
            )
        })
        .collect();
    let created = t.store.create_incidents(&news).await.expect("recorded");
    // In the order given, each as it reads back, each with its own history.
    assert_eq!(created.len(), 3);
    for (incident, new) in created.iter().zip(&news) {
        assert_eq!(incident.reported_at, new.reported_at);
        let read = t
            .store
            .incident(incident.id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(&read, incident);
        assert_eq!(
            t.store.history(incident.id).await.expect("history").len(),
            1
        );
    }
    assert!(created.windows(2).all(|w| w[0].id.0 < w[1].id.0));

    // One bad row: none of the batch is written.
    let mut bad = news.clone();
    bad[1].category = "weather".into();
    t.store
        .create_incidents(&bad)
        .await
        .expect_err("no such category");
    let page = t
        .store
        .incidents(&IncidentFilter::default(), 10, 0)
        .await
        .expect("list");
    assert_eq!(page.total, 3, "only the first batch");
    assert!(
        t.store
            .create_incidents(&[])
            .await
            .expect("nothing")
            .is_empty()
    );
}

async fn the_report_writer_groups_reports_and_isolates_a_bad_one(t: &TestStore) {
    let state = wangge::state::AppState::open(t.store.clone())
        .await
        .expect("state opens");
    let writer = state.dispatch().report_writer();
    let live = state.live();
    let mut news: Vec<NewIncident> = (0..40)
        .map(|i| new_incident("other", 106.1, 34.7, ["t", "", "", "", ""], t0() + hours(i)))
        .collect();
    news[17].category = "weather".into();
    // All sent at once: they queue while the first is written and go in
    // together; the bad one fails alone.
    let answers =
        futures_util::future::join_all(news.iter().map(|n| writer.record(n.clone()))).await;
    for (i, answer) in answers.iter().enumerate() {
        match answer {
            Ok(incident) => {
                assert_ne!(i, 17);
                assert_eq!(
                    incident.reported_at, news[i].reported_at,
                    "answer {i} is its own"
                );
            }
            Err(e) => {
                assert_eq!(i, 17, "only the bad report fails: {e}");
                assert!(matches!(e, StoreError::Database { .. }), "{e}");
            }
        }
    }
    let page = t
        .store
        .incidents(&IncidentFilter::default(), 100, 0)
        .await
        .expect("list");
    assert_eq!(page.total, 39);
    // Each recorded report was published (as open, by its place) by the
    // writer itself; the refused one was not.
    assert_eq!(live.open().len(), 39);
    for incident in &page.incidents {
        assert!(live.open().contains(incident.id));
    }
}

async fn filters_select_exactly(t: &TestStore) {
    // 40 incidents over two towns, four categories, ten hours.
    let categories = ["dispute", "sanitation", "public_order", "infrastructure"];
    let mut all = Vec::new();
    for i in 0..40_i64 {
        let town = if i % 2 == 0 { "t-a" } else { "t-b" };
        let basic = format!("{town}-b{}", i % 4);
        let lon = 106.0 + 0.01 * i as f64;
        let lat = 34.6 + 0.005 * (i % 10) as f64;
        let new = new_incident(
            categories[(i % 4) as usize],
            lon,
            lat,
            [town, &format!("{town}-v"), "", &basic, ""],
            t0() + hours(i / 4),
        );
        all.push(t.store.create_incident(&new).await.expect("recorded"));
    }
    // Resolve every fifth.
    for i in (0..40).step_by(5) {
        let at = t0() + hours(20);
        let resolved = advanced(&all[i], Status::Resolved, at);
        all[i] = apply(
            t,
            &all[i],
            &resolved,
            &event(at, EventKind::Transition, Some(Action::Resolve), "done"),
        )
        .await;
    }

    let check = |filter: IncidentFilter, want: &dyn Fn(&Incident) -> bool| {
        let store = t.store.clone();
        let mut expect: Vec<IncidentId> = all.iter().filter(|i| want(i)).map(|i| i.id).collect();
        expect.reverse(); // newest first
        async move {
            let page = store.incidents(&filter, 1000, 0).await.expect("list");
            let got: Vec<IncidentId> = page.incidents.iter().map(|i| i.id).collect();
            assert_eq!(got, expect, "{filter:?}");
            assert_eq!(page.total, expect.len() as u64, "{filter:?}");
            assert!(!expect.is_empty(), "the case selects something: {filter:?}");
        }
    };
    let level = |n| Level::new(n).expect("level");

    check(
        IncidentFilter {
            grid: Some((level(1), "t-a".into())),
            statuses: vec![Status::Found, Status::Collected],
            ..Default::default()
        },
        &|i| i.chain[0].as_ref().is_some_and(|g| g.0 == "t-a") && i.status != Status::Resolved,
    )
    .await;
    check(
        IncidentFilter {
            grid: Some((level(4), "t-b-b1".into())),
            ..Default::default()
        },
        &|i| i.chain[3].as_ref().is_some_and(|g| g.0 == "t-b-b1"),
    )
    .await;
    check(
        IncidentFilter {
            category: Some("sanitation".into()),
            ..Default::default()
        },
        &|i| i.category == "sanitation",
    )
    .await;
    check(
        IncidentFilter {
            reported_from: Some(t0() + hours(3)),
            reported_to: Some(t0() + hours(6)),
            ..Default::default()
        },
        &|i| i.reported_at >= t0() + hours(3) && i.reported_at < t0() + hours(6),
    )
    .await;
    let bbox = Bbox {
        min_lon: 106.05,
        min_lat: 34.61,
        max_lon: 106.2,
        max_lat: 34.62,
    };
    check(
        IncidentFilter {
            bbox: Some(bbox),
            ..Default::default()
        },
        &|i| bbox.contains(i.point.wgs84),
    )
    .await;
    check(
        IncidentFilter {
            tier: Some(Tier::grid(level(4))),
            statuses: vec![Status::Resolved],
            ..Default::default()
        },
        &|i| i.status == Status::Resolved,
    )
    .await;
    // Overdue at hour 30: open (not resolved) and deadline (reported + 24 h)
    // before it, i.e. reported before hour 6.
    let now = t0() + hours(30);
    check(
        IncidentFilter {
            overdue_at: Some(now),
            ..Default::default()
        },
        &|i| i.is_overdue(now),
    )
    .await;

    // Paging: newest first, total over all pages.
    let page = t
        .store
        .incidents(&IncidentFilter::default(), 7, 35)
        .await
        .expect("list");
    assert_eq!(page.total, 40);
    let ids: Vec<i64> = page.incidents.iter().map(|i| i.id.0).collect();
    assert_eq!(ids, [5, 4, 3, 2, 1]);
}
