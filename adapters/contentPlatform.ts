/**
 * The content platforms (Douyin, Xigua, Toutiao) as Starmap reads them: the
 * metrics of a creator's bound account (R-OPEN-APPLY, R-OPEN-XIGUA) and of a
 * published item (post-campaign data, R-RATE).
 *
 * No platform's open API is wired yet: `FakeContentPlatform` stands in for one
 * (development, the seed command and tests), behind the interface a real
 * adapter (an HTTP client of the platform's open API) will implement.
 */
import { createHash } from 'node:crypto';
import type { Platform, PlatformAccountMetrics } from '../domain/index.js';

export interface PlatformAccountProfile extends PlatformAccountMetrics {
  platform: Platform;
  platformUserId: string;
  nickname: string;
}

export interface ItemMetrics {
  plays: number;
  likes: number;
  comments: number;
  shares: number;
}

export class PlatformAccountNotFound extends Error {
  constructor(readonly platform: Platform, readonly platformUserId: string) {
    super(`no ${platform} account ${platformUserId}`);
    this.name = 'PlatformAccountNotFound';
  }
}

export interface ContentPlatform {
  /** The account's current metrics; rejects with PlatformAccountNotFound for an unknown account. */
  accountProfile(platform: Platform, platformUserId: string): Promise<PlatformAccountProfile>;
  /** The item's cumulative counters as of `at` (the caller's clock: workflow time in tests). */
  itemMetrics(platform: Platform, itemId: string, at: Date): Promise<ItemMetrics>;
}

const seeded = (text: string): number => createHash('sha256').update(text).digest().readUInt32BE(0);

/**
 * In-memory platform. Accounts set with `setAccount` answer what was set; other
 * ids answer metrics derived from a hash of the id (stable across processes, so
 * the seed command and the API agree); ids starting with `missing` do not exist.
 * Item counters grow with time since the item was first read, deterministically.
 */
export class FakeContentPlatform implements ContentPlatform {
  private readonly accounts = new Map<string, PlatformAccountProfile>();
  private readonly firstSeen = new Map<string, number>();
  private failures = 0;

  setAccount(profile: PlatformAccountProfile): void {
    this.accounts.set(`${profile.platform}:${profile.platformUserId}`, { ...profile, recentPlays: [...profile.recentPlays] });
  }

  /** Makes the next `count` calls fail, as an unreachable platform would. */
  failNext(count: number): void {
    this.failures = count;
  }

  private unavailable(): Error | null {
    if (this.failures === 0) return null;
    this.failures -= 1;
    return new Error('fake content platform unavailable');
  }

  accountProfile(platform: Platform, platformUserId: string): Promise<PlatformAccountProfile> {
    const down = this.unavailable();
    if (down) return Promise.reject(down);
    const set = this.accounts.get(`${platform}:${platformUserId}`);
    if (set) return Promise.resolve({ ...set, recentPlays: [...set.recentPlays] });
    if (platformUserId.startsWith('missing')) return Promise.reject(new PlatformAccountNotFound(platform, platformUserId));
    const h = seeded(`${platform}:${platformUserId}`);
    const fans = 500 + (h % 2_000_000);
    const base = 200 + (h % 50_000);
    return Promise.resolve({
      platform,
      platformUserId,
      nickname: `${platform}-${platformUserId}`,
      fans,
      originalPermission: h % 3 !== 0,
      recentPlays: Array.from({ length: 20 }, (_, i) => base + ((h >>> (i % 16)) % 1_000)),
    });
  }

  itemMetrics(platform: Platform, itemId: string, at: Date): Promise<ItemMetrics> {
    const down = this.unavailable();
    if (down) return Promise.reject(down);
    const key = `${platform}:${itemId}`;
    const first = this.firstSeen.get(key) ?? at.getTime();
    this.firstSeen.set(key, Math.min(first, at.getTime()));
    const hours = Math.max(0, (at.getTime() - Math.min(first, at.getTime())) / 3_600_000);
    const rate = 50 + (seeded(key) % 500); // plays per hour
    const plays = Math.floor(rate * hours * (1 + Math.log1p(hours / 24)));
    return Promise.resolve({ plays, likes: Math.floor(plays / 20), comments: Math.floor(plays / 200), shares: Math.floor(plays / 500) });
  }
}
