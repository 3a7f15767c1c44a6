/**
 * R-EVIDENCE: the printable view of an evidence bundle. One self-contained
 * HTML page: no script, no external asset (inline CSS, the system's CJK fonts),
 * Chinese labels first with the English beside them, times in Beijing time.
 * Every string that comes from a user or the record is escaped. The page
 * prints the SHA-256 of the exact JSON bytes and embeds those bytes, so the
 * printout alone can be checked.
 */
import type { EvidenceDocument, EvidenceEntry, EvidenceExport, EntryKind } from './evidenceBundle.js';

/** Text as HTML: the five characters that can open markup or end an attribute. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Chinese labels; the English beside them is the value itself. */
const KIND: Record<EntryKind, string> = {
  order: '下单',
  submission: '提交',
  review: '平台审核',
  client_decision: '客户确认',
  publication: '发布',
  platform_event: '平台事件',
  complaint: '投诉',
  lifecycle: '任务进程',
  transfer: '资金划转',
  credit_change: '信用分变动',
  appeal: '申诉',
};

const EVENT: Record<string, string> = {
  ordered: '下单',
  acceptance_reminded: '接单提醒',
  accepted: '达人接单',
  declined: '达人拒单',
  acceptance_expired: '超时未接单',
  submitted: '提交稿件',
  review_passed: '审核通过',
  review_rejected: '审核驳回',
  client_confirmed: '客户确认',
  client_rejected: '客户驳回',
  publication_linked: '关联发布',
  publication_reported: '平台报告发布',
  published: '已发布',
  visibility_changed: '可见性变化',
  delivery_accepted: '客户验收',
  modification_granted: '授权修改',
  complaint_filed: '提出投诉',
  complaint_dismissed: '投诉不成立',
  complaint_upheld: '投诉成立',
  retention_violated: '留存期违规',
  retention_completed: '留存期满',
  platform_event_ignored: '平台事件未采纳',
  deadline_reminded: '截止提醒',
  draft_deadline_extended: '延长创作期限',
  delivery_overdue: '逾期未交稿',
  escalated: '超时升级',
  publication_overdue: '逾期未发布',
  content_withdrawn: '内容撤下',
  operator_resolved: '运营裁定',
  cancellation_proposed: '提议取消',
  cancellation_agreed: '同意取消',
  cancellation_refused: '拒绝取消',
  takedown_requested: '申请下架',
  takedown_agreed: '同意下架',
  takedown_refused: '拒绝下架',
  effect_failed: '执行失败',
};

const STATUS: Record<string, string> = {
  awaiting_acceptance: '待接单',
  script_drafting: '脚本创作中',
  script_review: '脚本审核中',
  script_confirmation: '脚本待确认',
  content_drafting: '内容创作中',
  content_review: '内容审核中',
  content_confirmation: '内容待确认',
  awaiting_publication: '待发布',
  awaiting_client_acceptance: '待验收',
  in_retention: '留存期中',
  completed: '已完成',
  cancelled: '已取消',
};

const ROLE: Record<string, string> = { client: '客户', creator: '达人', mcn: 'MCN', operator: '运营', platform: '内容平台', system: '系统' };

const TRANSFER: Record<string, string> = { escrow_hold: '托管冻结', escrow_refund: '退款', payout: '结算付款' };
const APPEAL_STEP: Record<string, string> = { filed: '提出申诉', escalated: '超时升级', decided: '申诉结果' };
const OUTCOME: Record<string, string> = { upheld: '成立', rejected: '驳回' };

const bi = (zh: string | undefined, en: string) => (zh ? `${escapeHtml(zh)} <span class="en">${escapeHtml(en)}</span>` : escapeHtml(en));

/** Integer fen as yuan: 880000 → ¥8,800.00 */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}¥${Math.floor(abs / 100).toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
}

/** An ISO time in Beijing time (UTC+8, no daylight saving), with the UTC original beside it. */
function time(at: string | null, separator = '<br>'): string {
  if (!at) return '—';
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return escapeHtml(at);
  const local = new Date(ms + 8 * 3600_000).toISOString().replace('T', ' ').replace('Z', '');
  return `${escapeHtml(local)}${separator}<span class="utc">${escapeHtml(at)}</span>`;
}

const actorText = (a: EvidenceEntry['actor']) => (a ? `${bi(ROLE[a.role], a.role)}<br><span class="id">${escapeHtml(a.id)}</span>` : '—');

/** A definition list of an object's fields; long or multi-line text as a block. */
function fields(values: Record<string, unknown>): string {
  const rows = Object.keys(values)
    .sort()
    .filter((k) => values[k] !== null && values[k] !== undefined)
    .map((k) => {
      const v = values[k];
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      const block = k === 'body' || text.includes('\n') || text.length > 80;
      return `<dt>${escapeHtml(k)}</dt><dd>${block ? `<div class="text">${escapeHtml(text)}</div>` : escapeHtml(text)}</dd>`;
    });
  return rows.length > 0 ? `<dl>${rows.join('')}</dl>` : '';
}

function details(e: EvidenceEntry): string {
  const d = e.data;
  switch (e.kind) {
    case 'transfer':
      return `<div class="what">${bi(TRANSFER[String(d['transferKind'])], String(d['transferKind']))} <strong>${escapeHtml(yuan(Number(d['amountFen'])))}</strong></div>
        <div class="id">${escapeHtml(d['fromAccount'])} → ${escapeHtml(d['toAccount'])}</div><div class="id">${escapeHtml(d['transferId'])}</div>`;
    case 'credit_change': {
      const delta = Number(d['delta']);
      return `<div class="what">${escapeHtml(d['cause'])} <strong>${escapeHtml(delta > 0 ? `+${delta}` : String(delta))}</strong> 分 points</div>
        <div class="reason">${escapeHtml(d['reason'])}</div><div class="id">credit event ${escapeHtml(d['creditEventId'])}</div>`;
    }
    case 'appeal': {
      const step = String(d['step']);
      const said = step === 'filed' ? d['reason'] : step === 'decided' ? d['note'] : null;
      const outcome = step === 'decided' ? ` ${bi(OUTCOME[String(d['outcome'])], String(d['outcome']))}` : '';
      return `<div class="what">${bi(APPEAL_STEP[step], step)}${outcome}${step === 'filed' ? ` · ${escapeHtml(d['points'])} 分 points` : ''}</div>
        ${said ? `<div class="reason">理由 Reason: ${escapeHtml(said)}</div>` : ''}<div class="id">${escapeHtml(d['appealId'])} · credit event ${escapeHtml(d['creditEventId'])}</div>`;
    }
    default: {
      const type = String(d['event']);
      const reason = d['reason'] ? `<div class="reason">理由 Reason: ${escapeHtml(d['reason'])}</div>` : '';
      return `<div class="what">${bi(EVENT[type], type)}</div>${reason}${fields((d['payload'] ?? {}) as Record<string, unknown>)}`;
    }
  }
}

const party = (p: { id: string; displayName: string | null } | null) => (p ? `${p.displayName ? `${escapeHtml(p.displayName)} ` : ''}<span class="id">${escapeHtml(p.id)}</span>` : '—');

export interface EvidencePageContext {
  /** When this page was made (not part of the hashed document). */
  generatedAt: string;
  /** Who asked for it. */
  exportedBy: { role: string; id: string };
}

/** The printable page of `ex`, for `ctx`. */
export function renderEvidenceHtml(ex: EvidenceExport, ctx: EvidencePageContext): string {
  const doc: EvidenceDocument = ex.document;
  const t = doc.task;
  const rows = doc.entries
    .map(
      (e, i) => `<tr class="k-${escapeHtml(e.kind)}"><td class="n">${i + 1}</td><td class="time">${time(e.at)}</td><td>${bi(KIND[e.kind], e.kind)}</td><td>${actorText(e.actor)}</td><td>${details(e)}<div class="src">${escapeHtml(e.source)}</div></td></tr>`,
    )
    .join('\n');
  const header: Array<[string, string]> = [
    [bi('任务编号', 'Task ID'), `<code>${escapeHtml(t.id)}</code>`],
    [bi('任务类型', 'Type'), `${t.typeNameZh ? escapeHtml(t.typeNameZh) : ''} <span class="en">${escapeHtml(t.type)}</span>`],
    [bi('状态', 'Status'), `${bi(STATUS[t.status], t.status)}${t.closeReason ? ` · ${escapeHtml(t.closeReason)}` : ''}`],
    [bi('价格', 'Price'), `${escapeHtml(yuan(t.priceFen))} <span class="en">(${escapeHtml(t.priceFen)} fen)</span>`],
    [bi('客户', 'Client'), party(t.client)],
    [bi('达人', 'Creator'), party(t.creator)],
    [bi('MCN 机构', 'MCN'), party(t.mcn)],
    [bi('收款账户', 'Payout account'), t.payoutAccount ? `<span class="id">${escapeHtml(t.payoutAccount)}</span>` : '—'],
    [bi('下单时间', 'Ordered at'), time(t.orderedAt)],
    [bi('关闭时间', 'Closed at'), time(t.closedAt)],
    [bi('留存天数', 'Retention'), `${escapeHtml(t.retentionDays)} 天 days`],
    [
      bi('资金', 'Money'),
      `托管 held ${escapeHtml(yuan(doc.money.heldFen))} · 退款 refunded ${escapeHtml(yuan(doc.money.refundedFen))} · 付款 paid out ${escapeHtml(yuan(doc.money.paidOutFen))} · 托管余额 in escrow ${escapeHtml(yuan(doc.money.inEscrowFen))}`,
    ],
    [bi('记录截至', 'Record as of'), time(doc.asOf)],
  ];
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>任务证据包 Evidence bundle · ${escapeHtml(t.id)}</title>
<style>
  @page { size: A4; margin: 16mm 12mm 20mm; }
  html { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; color: #111; font-size: 13px; line-height: 1.5; }
  body { margin: 24px auto; max-width: 1100px; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 2px solid #333; padding-bottom: 2px; }
  .en { color: #555; font-size: 0.9em; }
  .id, .utc, .src { font-family: "Noto Sans Mono CJK SC", "DejaVu Sans Mono", monospace; color: #555; font-size: 11px; word-break: break-all; }
  .digest { border: 2px solid #111; padding: 8px 12px; margin: 12px 0; background: #f6f6f6; }
  .digest code { font-size: 13px; word-break: break-all; font-weight: bold; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #bbb; padding: 4px 6px; vertical-align: top; text-align: left; }
  th { background: #eee; }
  table.head th { width: 22%; }
  td.n { text-align: right; color: #555; width: 2em; }
  td.time { white-space: nowrap; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  .what { font-weight: bold; }
  .reason { margin: 2px 0; }
  dl { margin: 2px 0; display: grid; grid-template-columns: max-content 1fr; column-gap: 8px; }
  dt { color: #555; }
  dd { margin: 0; word-break: break-all; }
  .text, pre.json { white-space: pre-wrap; word-break: break-all; background: #fafafa; border: 1px solid #ddd; padding: 4px 6px; }
  pre.json { font-family: "Noto Sans Mono CJK SC", "DejaVu Sans Mono", monospace; font-size: 10px; }
  .note { color: #444; font-size: 12px; }
  .page-footer { margin-top: 24px; color: #444; font-size: 10px; border-top: 1px solid #999; padding-top: 4px; word-break: break-all; }
  @media print {
    body { margin: 0; max-width: none; padding: 0; }
  }
</style>
</head>
<body>
<h1>任务证据包 <span class="en">Task evidence bundle</span></h1>
<p class="note">星图式达人营销任务的争议证据（R-EVIDENCE）。Dispute evidence of one creator-marketing task. 时间为北京时间 (UTC+8)，其下为 UTC 原值 / times in Beijing time, UTC below.</p>
<div class="digest">
  <div>SHA-256 (JSON 文件摘要 digest of the JSON document): <code id="sha256">${escapeHtml(ex.sha256Hex)}</code></div>
  <div class="note">摘要覆盖附录中的 JSON 原文（${escapeHtml(ex.bytes.length)} 字节 bytes，RFC 8785 规范化 canonical JSON，UTF-8）；同一记录每次导出摘要相同。The digest covers the JSON in the appendix exactly; the same record always has the same digest.</div>
  <div class="note">导出时间 Exported at: ${time(ctx.generatedAt, ' ')} · 导出人 Exported by: ${bi(ROLE[ctx.exportedBy.role], ctx.exportedBy.role)} <span class="id">${escapeHtml(ctx.exportedBy.id)}</span>（不在摘要范围内 not covered by the digest）</div>
</div>

<h2>任务信息 <span class="en">Task</span></h2>
<table class="head">
${header.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('\n')}
<tr><th>${bi('需求', 'Brief')}</th><td><div class="text">${escapeHtml(t.brief)}</div></td></tr>
</table>

<h2>时间线 <span class="en">Timeline</span> (${escapeHtml(doc.entries.length)})</h2>
<table class="entries">
<thead><tr><th>#</th><th>${bi('时间', 'Time')}</th><th>${bi('类别', 'Kind')}</th><th>${bi('操作方', 'Actor')}</th><th>${bi('内容', 'Details')}</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>

<h2>附录：JSON 原文 <span class="en">Appendix: the hashed JSON document</span></h2>
<p class="note">校验 To verify: <code>curl -s -H "Authorization: Bearer …" …/v1/tasks/${escapeHtml(t.id)}/evidence | sha256sum</code>，或将下文原样保存为 UTF-8 文件（无换行结尾）后计算 SHA-256 / or save the text below as UTF-8 without a final newline and hash it.</p>
<pre class="json" id="evidence-json">${escapeHtml(ex.bytes.toString('utf8'))}</pre>
<div class="page-footer">${escapeHtml(t.id)} · SHA-256 ${escapeHtml(ex.sha256Hex)}</div>
</body>
</html>
`;
}
