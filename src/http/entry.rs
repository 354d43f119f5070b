//! The Worker's entry points on the `worker` crate (workers-rs), which `worker/index.js`
//! calls: `#[event(fetch)]` for each request, `#[event(scheduled)]` for each cron run.

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

use super::handle::{serve, Served};
use super::purge::purge_expired;
use super::reply::respond;

/// Responds to one request. Never fails: every failure is an `ApiError` response.
#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    // The method as sent: the crate's `Method` reads an unknown method as GET.
    let method = request.inner().method();
    let Served { result, bookmark } = serve(&request, &env, &method).await;
    Ok(respond(result, bookmark.as_deref(), method == "HEAD"))
}

/// The cron trigger: removes expired sessions in bounded batches and logs how many.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    purge_expired(&env).await;
}
