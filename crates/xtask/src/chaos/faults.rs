//! The faults of a chaos run beyond the Graph API double's own: replicas killed with SIGKILL
//! and started again, and Postgres crashing (immediate stop) and restarting.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use testkit::PgCluster;
use testkit::service::ChildService;
use testkit::stack::Stack;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The stack with its extra job-runner and outbound-sender replicas.
pub struct Replicas {
    stack: Stack,
    runners: Vec<ChildService>,
    senders: Vec<ChildService>,
}

/// Which kind of worker a replica is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Runner,
    Sender,
}

impl Replicas {
    /// Starts replicas until there are `runners` job-runners and `senders` senders (the
    /// stack runs one of each).
    pub async fn start(stack: Stack, runners: usize, senders: usize) -> anyhow::Result<Self> {
        let mut replicas = Self { stack, runners: Vec::new(), senders: Vec::new() };
        for _ in 1..runners.max(1) {
            let runner = replicas.stack.spawn_runner().await.context("starting a job-runner")?;
            replicas.runners.push(runner);
        }
        for _ in 1..senders.max(1) {
            let sender = replicas.stack.spawn_sender().await.context("starting an outbound-sender")?;
            replicas.senders.push(sender);
        }
        Ok(replicas)
    }

    /// webhook-ingest's address.
    pub fn ingest_addr(&self) -> SocketAddr {
        self.stack.ingest.addr()
    }

    /// whatsapp-fake's base URL.
    pub fn fake_url(&self) -> String {
        self.stack.fake.url("")
    }

    /// A random replica of the kind whose turn `nth` kill is: runners and senders take turns,
    /// so that every run kills both (a run that killed no sender proves nothing about them).
    fn pick(&self, nth: usize, rng: &mut StdRng) -> usize {
        let runners = 1 + self.runners.len();
        if nth.is_multiple_of(2) {
            rng.random_range(0..runners)
        } else {
            runners + rng.random_range(0..=self.senders.len())
        }
    }

    /// Replica `i`: runners first (the stack's own, then the extras), then senders.
    fn slot(&mut self, i: usize) -> (Kind, &mut ChildService) {
        let runners = 1 + self.runners.len();
        match i {
            0 => (Kind::Runner, &mut self.stack.runner),
            i if i < runners => (Kind::Runner, &mut self.runners[i - 1]),
            i if i == runners => (Kind::Sender, &mut self.stack.sender),
            i => (Kind::Sender, &mut self.senders[i - runners - 1]),
        }
    }

    /// SIGKILLs replica `i`, then starts a new one in its place.
    async fn kill_and_restart(&mut self, i: usize) -> anyhow::Result<Kind> {
        let (kind, victim) = self.slot(i);
        victim.kill().await.context("SIGKILL")?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let fresh = match kind {
            Kind::Runner => self.stack.spawn_runner().await,
            Kind::Sender => self.stack.spawn_sender().await,
        }
        .context("starting a replacement")?;
        *self.slot(i).1 = fresh;
        Ok(kind)
    }

    /// Stops every process with SIGTERM.
    pub async fn stop(mut self) {
        for service in self.runners.iter_mut().chain(self.senders.iter_mut()) {
            let _ = service.terminate().await;
        }
        for service in
            [&mut self.stack.runner, &mut self.stack.sender, &mut self.stack.ingest, &mut self.stack.fake]
        {
            let _ = service.terminate().await;
        }
    }
}

/// How many replicas the killer killed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Kills {
    /// job-runners.
    pub runners: usize,
    /// outbound-senders.
    pub senders: usize,
}

/// Kills a random runner, then a random sender, and so on, at a fixed period, until stopped.
pub struct Killer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<(Replicas, Kills)>,
}

impl Killer {
    /// Starts killing one of `replicas` every `every` (never when `every` is zero).
    pub fn start(mut replicas: Replicas, every: Duration, seed: u64) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ 0x6b69_6c6c);
            let mut kills = Kills::default();
            loop {
                let pause = if every.is_zero() { Duration::MAX } else { every };
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = &mut stopped => break,
                }
                let victim = replicas.pick(kills.runners + kills.senders, &mut rng);
                match replicas.kill_and_restart(victim).await {
                    Ok(Kind::Runner) => kills.runners += 1,
                    Ok(Kind::Sender) => kills.senders += 1,
                    Err(e) => eprintln!("chaos: {e:#}"),
                }
            }
            (replicas, kills)
        });
        Self { stop, task }
    }

    /// Stops killing; returns the replicas and what was killed.
    pub async fn stop(self) -> anyhow::Result<(Replicas, Kills)> {
        let _ = self.stop.send(());
        self.task.await.context("the killer task failed")
    }
}

/// After `after`, stops Postgres at once (as a crash would), waits two seconds and starts
/// it again; the task returns how long Postgres was away.
pub fn restart_postgres_at(cluster: Arc<PgCluster>, after: Duration) -> JoinHandle<anyhow::Result<Duration>> {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        println!("chaos: Postgres stops (immediate) …");
        let outage = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            cluster.stop()?;
            std::thread::sleep(Duration::from_secs(2));
            cluster.restart()?;
            Ok::<_, testkit::postgres::ClusterError>(started.elapsed())
        })
        .await
        .context("the restart task failed")?
        .context("restarting Postgres")?;
        println!("chaos: … Postgres is back after {:.1} s", outage.as_secs_f64());
        Ok(outage)
    })
}
