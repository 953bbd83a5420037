/**
 * ui/player.ts: the player as a state machine (paused, playing, finished). Its position is
 * an index into the trace plus a presentation clock (ms at 1x, see model.presentationTimes);
 * every view is a function of that position, so stepping back or jumping lands exactly on
 * the state a forward play shows there. The requestAnimationFrame loop only sends TICK.
 */
import { assign, createActor, setup, type ActorRefFrom } from 'xstate';
import { indexAt } from './model';

export interface PlayerContext {
  pt: Float64Array;
  index: number;
  clock: number;
  speed: number;
}

export type PlayerEvent =
  | { type: 'PLAY' } | { type: 'PAUSE' } | { type: 'TOGGLE' }
  | { type: 'STEP'; delta: number }
  | { type: 'SEEK'; index: number }
  | { type: 'SPEED'; speed: number }
  | { type: 'TICK'; dt: number }
  | { type: 'LOAD'; pt: Float64Array; index: number };

export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;

const clampIndex = (c: PlayerContext, i: number) => Math.max(0, Math.min(c.pt.length - 1, i));
const lastMs = (c: PlayerContext) => (c.pt.length ? c.pt[c.pt.length - 1] : 0);

export const playerMachine = setup({
  types: { context: {} as PlayerContext, events: {} as PlayerEvent, input: {} as { pt: Float64Array; index?: number; speed?: number } },
  actions: {
    step: assign(({ context, event }) => {
      if (event.type !== 'STEP') return {};
      const index = clampIndex(context, context.index + event.delta);
      return { index, clock: context.pt[index] ?? 0 };
    }),
    seek: assign(({ context, event }) => {
      if (event.type !== 'SEEK') return {};
      const index = clampIndex(context, event.index);
      return { index, clock: context.pt[index] ?? 0 };
    }),
    load: assign(({ event }) => {
      if (event.type !== 'LOAD') return {};
      const index = Math.max(0, Math.min(event.pt.length - 1, event.index));
      return { pt: event.pt, index, clock: event.pt[index] ?? 0 };
    }),
    speed: assign(({ event }) => (event.type === 'SPEED' ? { speed: event.speed } : {})),
    tick: assign(({ context, event }) => {
      if (event.type !== 'TICK') return {};
      const clock = Math.min(lastMs(context), context.clock + event.dt * context.speed);
      return { clock, index: indexAt(context.pt, clock) };
    }),
    rewindIfAtEnd: assign(({ context }) => (context.index >= context.pt.length - 1 ? { index: 0, clock: 0 } : {})),
  },
  guards: {
    atEnd: ({ context }) => context.clock >= lastMs(context),
    notAtEnd: ({ context }) => context.index < context.pt.length - 1,
  },
}).createMachine({
  id: 'player',
  context: ({ input }) => ({ pt: input.pt, index: input.index ?? 0, clock: input.pt[input.index ?? 0] ?? 0, speed: input.speed ?? 1 }),
  initial: 'paused',
  on: {
    STEP: { target: '.paused', actions: 'step' },
    SPEED: { actions: 'speed' },
    LOAD: { target: '.paused', actions: 'load' },
  },
  states: {
    paused: {
      on: {
        PLAY: { target: 'playing', actions: 'rewindIfAtEnd' },
        TOGGLE: { target: 'playing', actions: 'rewindIfAtEnd' },
        SEEK: { actions: 'seek' },
      },
    },
    playing: {
      on: {
        PAUSE: 'paused',
        TOGGLE: 'paused',
        SEEK: { actions: 'seek' },
        TICK: { actions: 'tick' },
      },
      always: { guard: 'atEnd', target: 'finished' },
    },
    finished: {
      on: {
        PLAY: { target: 'playing', actions: 'rewindIfAtEnd' },
        TOGGLE: { target: 'playing', actions: 'rewindIfAtEnd' },
        SEEK: { target: 'paused', actions: 'seek' },
      },
    },
  },
});

export type PlayerActor = ActorRefFrom<typeof playerMachine>;

export function createPlayer(pt: Float64Array, index = 0, speed = 1): PlayerActor {
  return createActor(playerMachine, { input: { pt, index, speed } }).start();
}
