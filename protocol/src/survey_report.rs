//! Satisfaction survey figures for headquarters: mean and distribution of the 1–5 score, the
//! recommendation score (promoters minus detractors of the 0–10 answer, as in NPS), the share of
//! procedures resolved, and the response rate, per office, service, counter, agent or hour.
//!
//! Answers come from two places: the day document (tracking page and exit tablet, at the office)
//! and central's own store (survey links answered from home). A ticket counts once: the office's
//! answer if it has one, else central's. Only tickets of the day count, so an answer whose day
//! central has not received yet is counted when the day arrives.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::day::{Day, SurveyAnswer};
use crate::ids::TicketId;
use crate::report::{counter_label, local_hour, service_label, Context, GroupBy};
use crate::ticket::{Ticket, TicketStatus};

/// Fewer answers than this for one agent and that agent's figures are withheld: with three
/// answers a supervisor could tell who said what, and the mean says little anyway.
pub const AGENT_ANSWERS_MIN: u32 = 5;

/// The survey figures of one group (or of everything, for a total).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyRow {
    /// The office id, service id, counter id, agent id, or local hour ("09:00").
    pub group: String,
    /// A readable name, when the configuration has one.
    pub label: Option<String>,
    /// Visits that ended served: the surveys that could be answered.
    pub finished: u32,
    pub answers: u32,
    /// answers / finished.
    pub response_rate: Option<f64>,
    /// An agent's row with fewer than [`AGENT_ANSWERS_MIN`] answers: every figure below is null.
    pub withheld: bool,
    pub satisfaction_answers: u32,
    pub satisfaction_mean: Option<f64>,
    /// How many answered 1, 2, 3, 4 and 5.
    pub satisfaction_counts: [u32; 5],
    pub recommend_answers: u32,
    /// Share of 9–10 minus share of 0–6, in points from −100 to 100.
    pub recommend_score: Option<f64>,
    pub resolved_answers: u32,
    /// Share of "yes" among those who answered whether their procedure was resolved.
    pub resolved_rate: Option<f64>,
    pub comments: u32,
}

#[derive(Debug, Clone, Default)]
struct Accumulator {
    finished: u32,
    answers: u32,
    satisfaction: [u32; 5],
    recommend: [u32; 11],
    resolved_yes: u32,
    resolved_no: u32,
    comments: u32,
}

impl Accumulator {
    fn add(&mut self, answer: Option<&SurveyAnswer>) {
        self.finished += 1;
        let Some(answer) = answer else { return };
        self.answers += 1;
        if let Some(score) = answer.satisfaction.filter(|s| (1..=5).contains(s)) {
            self.satisfaction[usize::from(score - 1)] += 1;
        }
        if let Some(score) = answer.recommend.filter(|r| *r <= 10) {
            self.recommend[usize::from(score)] += 1;
        }
        match answer.resolved {
            Some(true) => self.resolved_yes += 1,
            Some(false) => self.resolved_no += 1,
            None => {}
        }
        self.comments += u32::from(answer.commented);
    }

    fn merge(&mut self, other: &Accumulator) {
        self.finished += other.finished;
        self.answers += other.answers;
        for (mine, theirs) in self.satisfaction.iter_mut().zip(other.satisfaction) {
            *mine += theirs;
        }
        for (mine, theirs) in self.recommend.iter_mut().zip(other.recommend) {
            *mine += theirs;
        }
        self.resolved_yes += other.resolved_yes;
        self.resolved_no += other.resolved_no;
        self.comments += other.comments;
    }

    fn row(&self, group: String, label: Option<String>, withhold: bool) -> SurveyRow {
        let share = |part: u32, whole: u32| (whole > 0).then(|| f64::from(part) / f64::from(whole));
        let satisfaction_answers: u32 = self.satisfaction.iter().sum();
        let recommend_answers: u32 = self.recommend.iter().sum();
        let resolved_answers = self.resolved_yes + self.resolved_no;
        let mut row = SurveyRow {
            group,
            label,
            finished: self.finished,
            answers: self.answers,
            response_rate: share(self.answers, self.finished),
            withheld: false,
            satisfaction_answers,
            satisfaction_mean: (satisfaction_answers > 0).then(|| {
                let total: u32 = self.satisfaction.iter().zip(1u32..).map(|(count, score)| count * score).sum();
                f64::from(total) / f64::from(satisfaction_answers)
            }),
            satisfaction_counts: self.satisfaction,
            recommend_answers,
            recommend_score: (recommend_answers > 0).then(|| {
                let promoters: u32 = self.recommend[9..].iter().sum();
                let detractors: u32 = self.recommend[..7].iter().sum();
                100.0 * (f64::from(promoters) - f64::from(detractors)) / f64::from(recommend_answers)
            }),
            resolved_answers,
            resolved_rate: share(self.resolved_yes, resolved_answers),
            comments: self.comments,
        };
        if withhold && self.answers < AGENT_ANSWERS_MIN {
            row = SurveyRow {
                group: row.group,
                label: row.label,
                finished: row.finished,
                withheld: true,
                ..SurveyRow::withheld()
            };
        }
        row
    }
}

impl SurveyRow {
    fn withheld() -> SurveyRow {
        SurveyRow {
            group: String::new(),
            label: None,
            finished: 0,
            answers: 0,
            response_rate: None,
            withheld: true,
            satisfaction_answers: 0,
            satisfaction_mean: None,
            satisfaction_counts: [0; 5],
            recommend_answers: 0,
            recommend_score: None,
            resolved_answers: 0,
            resolved_rate: None,
            comments: 0,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Group {
    label: Option<String>,
    acc: Accumulator,
}

/// Survey figures accumulated over any number of days, per group and in total.
#[derive(Debug, Clone)]
pub struct SurveyTally {
    by: GroupBy,
    groups: BTreeMap<String, Group>,
    total: Accumulator,
    total_label: Option<String>,
}

impl SurveyTally {
    pub fn new(by: GroupBy) -> Self {
        SurveyTally { by, groups: BTreeMap::new(), total: Accumulator::default(), total_label: None }
    }

    /// Add a business day, with the answers central received for it by link (`remote`). A ticket
    /// answered in both places counts once, with the office's answer.
    pub fn add_day(&mut self, day: &Day, remote: &BTreeMap<TicketId, SurveyAnswer>, context: &Context<'_>) {
        if self.total_label.is_none() {
            self.total_label = context.config.map(|c| c.name.clone());
        }
        for ticket in day.tickets.values().filter(|t| t.status == TicketStatus::Finished) {
            let answer = day.surveys.get(&ticket.id).or_else(|| remote.get(&ticket.id));
            self.total.add(answer);
            if let Some((key, label)) = self.group_of(day, ticket, context) {
                let group = self.groups.entry(key).or_default();
                group.label = group.label.take().or(label);
                group.acc.add(answer);
            }
        }
    }

    /// Fold another tally (of the same grouping) into this one.
    pub fn merge(&mut self, other: &SurveyTally) {
        debug_assert_eq!(self.by, other.by, "tallies of one grouping merge");
        self.total.merge(&other.total);
        self.total_label = self.total_label.take().or_else(|| other.total_label.clone());
        for (key, group) in &other.groups {
            let mine = self.groups.entry(key.clone()).or_default();
            mine.label = mine.label.take().or_else(|| group.label.clone());
            mine.acc.merge(&group.acc);
        }
    }

    /// One row per group, in group order; agents' rows withheld below [`AGENT_ANSWERS_MIN`].
    pub fn rows(&self) -> Vec<SurveyRow> {
        let withhold = self.by == GroupBy::Agent;
        self.groups.iter().map(|(key, group)| group.acc.row(key.clone(), group.label.clone(), withhold)).collect()
    }

    /// Everything added, as one row named `group`.
    pub fn total(&self, group: &str) -> SurveyRow {
        self.total.row(group.to_string(), self.total_label.clone(), false)
    }

    /// A finished ticket's group: where and by whom it was served, and the hour it ended.
    fn group_of(&self, day: &Day, ticket: &Ticket, context: &Context<'_>) -> Option<(String, Option<String>)> {
        let config = context.config;
        match self.by {
            GroupBy::Office => Some((day.office.clone(), config.map(|c| c.name.clone()))),
            GroupBy::Service => Some((ticket.service.0.clone(), service_label(config, &ticket.service))),
            GroupBy::Counter => {
                ticket.counter.as_ref().map(|counter| (counter.0.clone(), counter_label(config, counter)))
            }
            GroupBy::Agent => ticket.agent.as_ref().map(|agent| (agent.0.clone(), None)),
            GroupBy::Hour => Some((local_hour(ticket.closed_at.unwrap_or(ticket.issued_at), context.time_zone), None)),
        }
    }
}

#[cfg(test)]
mod tests;
