import { describe, expect, it } from 'vitest';
import { ParameterStore, type ParameterChange } from '../../engine/src/parameter-store.ts';

describe('parameter store', () => {
  it('clamps to the schema and tells listeners who changed what', () => {
    const store = new ParameterStore();
    const heard: ParameterChange[] = [];
    store.subscribe((c) => heard.push(c));
    expect(store.set('limiter.ceiling', 2, 'cli')).toBe(0);
    expect(store.set('comp.ratio', 3.4, 'controller:x-touch')).toBe(3);
    expect(heard.map((c) => [c.id, c.value, c.origin])).toEqual([
      ['limiter.ceiling', 0, 'cli'],
      ['comp.ratio', 3, 'controller:x-touch'],
    ]);
    expect(heard[0].previous).toBe(-1);
  });

  it('echoes changes to every surface but the one that made them', () => {
    const store = new ParameterStore();
    const toFader: string[] = [];
    store.subscribeExcept('controller:fader', (c) => toFader.push(c.origin));
    store.set('output.trim', -3, 'controller:fader');
    store.set('output.trim', -6, 'dashboard:1');
    store.set('output.trim', -6, 'recall'); // no change, no echo
    expect(toFader).toEqual(['dashboard:1']);
  });

  it('refuses a recall with an unknown id before changing anything', () => {
    const store = new ParameterStore();
    expect(() => store.setMany({ 'comp.threshold': -20, 'comp.thresh': -3 }, 'recall')).toThrow(
      /unknown parameter "comp.thresh"/,
    );
    expect(store.get('comp.threshold')).toBe(-12);
  });
});
