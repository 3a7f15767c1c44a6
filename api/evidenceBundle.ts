/**
 * R-EVIDENCE: the dispute evidence bundle of one task, as a document, and its
 * exact bytes. Pure: the record comes from db/evidence.ts (one snapshot).
 *
 * The document holds the task's header (id, type, parties, price, status) and
 * one `entries` array in time order: every task event (submissions with their
 * body, reviews and client decisions with actor and reason, publications,
 * platform events, complaints and their resolution, deadlines, settlement),
 * every ledger transfer of the task, every credit change it caused and the
 * appeals against those (with the restorations of upheld ones).
 *
 * Bytes: RFC 8785 (JSON Canonicalization Scheme) in UTF-8: object keys sorted
 * by UTF-16 code units, no whitespace, ECMAScript number and string forms. The
 * document holds nothing that depends on when it was exported (the export time
 * travels beside it: a header of the answer, a line of the HTML outside the
 * digest), so the same record always gives the same bytes and the same SHA-256,
 * whoever exports it and whenever.
 */
import { createHash } from 'node:crypto';
import { TASK_TYPES, type TaskTypeId } from '../domain/index.js';
import type { EvidenceRecord } from '../db/evidence.js';

export const EVIDENCE_FORMAT = 'starmap.evidence/1';

export const ENTRY_KINDS = [
  'order',
  'submission',
  'review',
  'client_decision',
  'publication',
  'platform_event',
  'complaint',
  'lifecycle',
  'transfer',
  'credit_change',
  'appeal',
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** Task event types by entry kind; a type not listed (e.g. one a later workflow adds) is a `lifecycle` entry, never dropped. */
const EVENT_KIND: Record<string, EntryKind> = {
  ordered: 'order',
  submitted: 'submission',
  review_passed: 'review',
  review_rejected: 'review',
  client_confirmed: 'client_decision',
  client_rejected: 'client_decision',
  publication_linked: 'publication',
  published: 'publication',
  publication_reported: 'platform_event',
  visibility_changed: 'platform_event',
  platform_event_ignored: 'platform_event',
  retention_violated: 'platform_event',
  complaint_filed: 'complaint',
  complaint_dismissed: 'complaint',
  complaint_upheld: 'complaint',
};
export const entryKindOfEvent = (type: string): EntryKind => EVENT_KIND[type] ?? 'lifecycle';

export interface EvidenceActor {
  role: string;
  id: string;
}

export interface EvidenceEntry {
  kind: EntryKind;
  /** ISO 8601, UTC, milliseconds. */
  at: string;
  actor: EvidenceActor | null;
  /** Where the entry is recorded: `task_events#<seq>`, `ledger_transfers#<id>`, `credit_events#<id>`, `appeals#<id>`. */
  source: string;
  data: Record<string, unknown>;
}

export interface EvidenceParty {
  id: string;
  displayName: string | null;
}

export interface EvidenceDocument {
  format: typeof EVIDENCE_FORMAT;
  task: {
    id: string;
    type: string;
    typeNameZh: string | null;
    status: string;
    closeReason: string | null;
    brief: string;
    priceFen: number;
    retentionDays: number;
    scriptRequired: boolean;
    orderedAt: string;
    closedAt: string | null;
    client: EvidenceParty;
    creator: EvidenceParty;
    /** The creator's MCN at export (it may read the bundle). */
    mcn: EvidenceParty | null;
    /** R-PAYOUT: the ledger account the escrow pays, fixed at order. */
    payoutAccount: string | null;
  };
  /** The escrow's movements, from the transfers below. */
  money: { heldFen: number; refundedFen: number; paidOutFen: number; inEscrowFen: number };
  /** The time of the latest entry: the record as of then. */
  asOf: string;
  entries: EvidenceEntry[];
}

const iso = (d: Date) => d.toISOString();
// at the same millisecond: the task event, then its transfer, an appeal's decision, then the credit change it caused
const SOURCE_RANK = { task_events: 0, ledger_transfers: 1, appeals: 2, credit_events: 3 } as const;

/** `operator:op-1` (appeals.decided_by) as an actor. */
function actorOfTag(tag: string | null): EvidenceActor | null {
  if (!tag) return null;
  const at = tag.indexOf(':');
  return at > 0 ? { role: tag.slice(0, at), id: tag.slice(at + 1) } : { role: 'unknown', id: tag };
}

/** The bundle of a task's record. Deterministic: the same record gives the same document. */
export function buildEvidence(record: EvidenceRecord): EvidenceDocument {
  const { task } = record;
  const sorted: Array<{ entry: EvidenceEntry; rank: number; order: number }> = [];
  const add = (entry: EvidenceEntry, source: keyof typeof SOURCE_RANK, order: number) => sorted.push({ entry, rank: SOURCE_RANK[source], order });

  for (const e of record.events) {
    add(
      {
        kind: entryKindOfEvent(e.type),
        at: iso(e.occurredAt),
        actor: { role: e.actorRole, id: e.actorId },
        source: `task_events#${e.seq}`,
        data: { event: e.type, seq: e.seq, reason: e.reason, payload: e.payload },
      },
      'task_events',
      e.seq,
    );
  }
  for (const t of record.transfers) {
    add(
      {
        kind: 'transfer',
        at: iso(t.createdAt),
        actor: null,
        source: `ledger_transfers#${t.id}`,
        data: { transferId: t.id, transferKind: t.kind, fromAccount: t.fromAccount, toAccount: t.toAccount, amountFen: t.amountFen },
      },
      'ledger_transfers',
      t.seq,
    );
  }
  for (const c of record.credit) {
    add(
      {
        kind: 'credit_change',
        at: iso(c.occurredAt),
        actor: { role: c.actorRole, id: c.actorId },
        source: `credit_events#${c.id}`,
        data: { creditEventId: c.id, creatorId: c.creatorId, delta: c.delta, cause: c.cause, reason: c.reason, taskId: c.taskId, cardId: c.cardId, appealId: c.appealId },
      },
      'credit_events',
      c.id,
    );
  }
  record.appeals.forEach((a, i) => {
    const base = { appealId: a.id, creditEventId: a.creditEventId };
    add(
      {
        kind: 'appeal',
        at: iso(a.filedAt),
        actor: { role: 'creator', id: a.creatorId },
        source: `appeals#${a.id}`,
        data: { ...base, step: 'filed', points: a.points, reason: a.reason, dueAt: iso(a.dueAt) },
      },
      'appeals',
      i * 3,
    );
    if (a.escalatedAt) {
      add({ kind: 'appeal', at: iso(a.escalatedAt), actor: { role: 'system', id: 'starmap' }, source: `appeals#${a.id}`, data: { ...base, step: 'escalated' } }, 'appeals', i * 3 + 1);
    }
    if (a.decidedAt) {
      add(
        { kind: 'appeal', at: iso(a.decidedAt), actor: actorOfTag(a.decidedBy), source: `appeals#${a.id}`, data: { ...base, step: 'decided', outcome: a.status, note: a.decisionNote } },
        'appeals',
        i * 3 + 2,
      );
    }
  });
  // time order; at the same millisecond by SOURCE_RANK, then each source's own order
  sorted.sort((x, y) => (x.entry.at < y.entry.at ? -1 : x.entry.at > y.entry.at ? 1 : x.rank - y.rank || x.order - y.order));
  const entries = sorted.map((s) => s.entry);

  const escrow = `escrow:${task.id}`;
  const client = `client:${task.clientId}`;
  const sum = (pick: (t: EvidenceRecord['transfers'][number]) => boolean) => record.transfers.filter(pick).reduce((n, t) => n + t.amountFen, 0);
  const heldFen = sum((t) => t.toAccount === escrow);
  const refundedFen = sum((t) => t.fromAccount === escrow && t.toAccount === client);
  const paidOutFen = sum((t) => t.fromAccount === escrow && t.toAccount !== client);
  const party = (id: string): EvidenceParty => ({ id, displayName: record.names.get(id) ?? null });

  return {
    format: EVIDENCE_FORMAT,
    task: {
      id: task.id,
      type: task.type,
      typeNameZh: TASK_TYPES[task.type as TaskTypeId]?.nameZh ?? null,
      status: task.status,
      closeReason: task.closeReason,
      brief: task.brief,
      priceFen: task.priceFen,
      retentionDays: task.retentionDays,
      scriptRequired: task.scriptRequired,
      orderedAt: iso(task.orderedAt),
      closedAt: task.closedAt ? iso(task.closedAt) : null,
      client: party(task.clientId),
      creator: party(task.creatorId),
      mcn: record.mcnId ? party(record.mcnId) : null,
      payoutAccount: task.payoutAccount,
    },
    money: { heldFen, refundedFen, paidOutFen, inEscrowFen: heldFen - refundedFen - paidOutFen },
    asOf: entries.at(-1)?.at ?? iso(task.orderedAt),
    entries,
  };
}

/**
 * RFC 8785 (JCS) canonical JSON: keys sorted by UTF-16 code units (JavaScript's
 * default string order), no insignificant whitespace, ECMAScript forms for
 * numbers and strings; `undefined` members are left out as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const members = Object.keys(object)
      .sort()
      .filter((k) => object[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`);
    return `{${members.join(',')}}`;
  }
  throw new Error(`canonical JSON cannot hold a ${typeof value}`);
}

export interface EvidenceExport {
  document: EvidenceDocument;
  /** The exact bytes served as JSON and embedded in the HTML. */
  bytes: Buffer;
  sha256Hex: string;
  sha256Base64: string;
}

export function exportEvidence(record: EvidenceRecord): EvidenceExport {
  const document = buildEvidence(record);
  const bytes = Buffer.from(canonicalJson(document), 'utf8');
  const digest = createHash('sha256').update(bytes).digest();
  return { document, bytes, sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64') };
}
