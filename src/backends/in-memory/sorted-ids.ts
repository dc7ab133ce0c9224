/**
 * Ids kept in ascending order for `list` (newest first) and cursor seeks. Generated ids are
 * time-sortable, so inserts are almost always appends; binary search handles the rest.
 */
export class SortedIds {
  private readonly ids: string[] = [];

  private lowerBound(id: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(id: string): void {
    const last = this.ids[this.ids.length - 1];
    if (last === undefined || last < id) {
      this.ids.push(id);
      return;
    }
    const at = this.lowerBound(id);
    if (this.ids[at] !== id) this.ids.splice(at, 0, id);
  }

  remove(id: string): void {
    const at = this.lowerBound(id);
    if (this.ids[at] === id) this.ids.splice(at, 1);
  }

  /** Ids strictly below `beforeId` (all when undefined), largest first. */
  *descendingFrom(beforeId: string | undefined): Generator<string> {
    for (let i = (beforeId === undefined ? this.ids.length : this.lowerBound(beforeId)) - 1; i >= 0; i--) {
      yield this.ids[i]!;
    }
  }

  /** Ids strictly above `afterId` (all when null), smallest first. */
  *ascendingAfter(afterId: string | null): Generator<string> {
    let i = afterId === null ? 0 : this.lowerBound(afterId);
    if (afterId !== null && this.ids[i] === afterId) i++;
    for (; i < this.ids.length; i++) yield this.ids[i]!;
  }
}
