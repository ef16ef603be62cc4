//! Seeding the demo data into a store: the generator (`crate::generate`)
//! makes plain values and knows nothing of stores or services; here they go
//! in through the same services as real users' changes (the dispatch rules
//! for incidents, the road network and hazard register for patrols), each
//! change in its own transaction with its change-feed entry.

use jiff::{SignedDuration, Timestamp};

use crate::dispatch::{self, ActionRequest, DispatchError, Dispatcher, Report};
use crate::generate::DEMO_SEED;
use crate::generate::hazards::generate_hazards;
use crate::generate::incidents::{DemoIncident, DemoStep, demo_incidents};
use crate::generate::roads::{generate_roads, settlements};
use crate::geom::InputCrs;
use crate::model::{Person, View};
use crate::patrol::{PatrolError, hazards};
use crate::state::AppState;

/// What loading the demo incidents did.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoSummary {
    /// Incidents reported.
    pub reported: usize,
    /// Actions applied (transitions and escalations).
    pub actions: usize,
}

/// Report `count` demo incidents over the year before `end` in the grids
/// `desk` locates with, and play their lives up to `end` through the
/// dispatch rules. `progress` is called after each incident.
pub async fn load_demo_incidents(
    desk: &Dispatcher,
    count: usize,
    seed: u64,
    end: Timestamp,
    mut progress: impl FnMut(usize),
) -> Result<DemoSummary, DispatchError> {
    let incidents = {
        let index = desk.index();
        tokio::task::spawn_blocking(move || demo_incidents(&index, count, seed, end))
            .await
            .expect("generating demo incidents does not panic")
    };
    let mut summary = DemoSummary::default();
    for (n, demo) in incidents.into_iter().enumerate() {
        play(desk, demo, &mut summary).await?;
        progress(n + 1);
    }
    Ok(summary)
}

async fn play(
    desk: &Dispatcher,
    demo: DemoIncident,
    summary: &mut DemoSummary,
) -> Result<(), DispatchError> {
    let r = demo.report;
    let report = Report {
        category: r.category,
        description: r.description,
        point: r.point,
        crs: InputCrs::Wgs84,
        severity: r.severity,
        source: r.source,
        reporter: None,
        photos: Vec::new(),
        actor: "demo".into(),
        note: None,
    };
    let incident = dispatch::report(desk, report, demo.at).await?.incident;
    summary.reported += 1;
    for (when, step) in demo.steps {
        let done = match step {
            DemoStep::Act(action, note) => {
                let request = ActionRequest {
                    action,
                    actor: "demo".into(),
                    note: note.map(str::to_owned),
                    person: Some(Person {
                        name: "调解员".into(),
                        phone: String::new(),
                    }),
                    due: Some(when + SignedDuration::from_hours(7 * 24)),
                    version: None,
                };
                dispatch::act(desk, incident.id, request, when).await
            }
            DemoStep::Escalate => {
                let note = Some("需要上级协调".to_owned());
                dispatch::escalate(desk, incident.id, "demo", note, None, when).await
            }
        };
        match done {
            Ok(_) => summary.actions += 1,
            // At the county already: the life goes on without it.
            Err(DispatchError::CannotEscalate { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What was loaded for patrols.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoPatrolData {
    /// Road lines.
    pub roads: usize,
    /// Their length, km.
    pub road_km: f64,
    /// Hazards registered.
    pub hazards: usize,
}

/// Lay the demo roads over the grids the state holds (the demo county,
/// already imported) and register the demo hazards, last inspected relative
/// to `now` so that about a quarter are due.
pub async fn load_demo_roads_and_hazards(
    state: &AppState,
    now: Timestamp,
) -> Result<DemoPatrolData, PatrolError> {
    let index = state.index();
    let (lines, places) = {
        let index = index.clone();
        tokio::task::spawn_blocking(move || {
            let places = settlements(index.grids());
            (generate_roads(index.grids(), &places, DEMO_SEED), places)
        })
        .await
        .expect("generating the demo roads does not panic")
    };
    // The store's copy first; the graph it builds is the one hazards are
    // placed along.
    let network = state.replace_roads(lines, "demo").await?;
    let drafts = {
        let (index, network) = (index.clone(), network.clone());
        tokio::task::spawn_blocking(move || {
            generate_hazards(index.grids(), &places, &network, now, DEMO_SEED)
        })
        .await
        .expect("generating the demo hazards does not panic")
    };
    let editor = hazards::Editor {
        actor: "demo",
        view: &View::All,
    };
    let registered = hazards::register(state.feed(), editor, drafts, now, false).await?;
    Ok(DemoPatrolData {
        roads: network.lines().len(),
        road_km: network.length_m() / 1000.0,
        hazards: registered.len(),
    })
}
