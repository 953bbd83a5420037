/**
 * ui/lesson.ts: the guided walkthrough of the five TUN steps as a state machine. The steps,
 * their numbering and text are the trace's (trace/steps.ts), so the lesson, the trace table and
 * `lvsim run` say the same thing: whenever the player reaches a record of a step (the step
 * index computed from the records), the lesson moves to that step.
 */
import { assign, createActor, setup, type ActorRefFrom } from 'xstate';
import { TUN_STEPS, type StepList } from '../trace/steps';

export interface LessonStep {
  readonly n: 1 | 2 | 3 | 4 | 5;
  readonly title: string;
  /** The tutorial's sentence, then where the kernel is more precise. */
  readonly text: string;
  /** What the topology highlights during the step. */
  readonly focus: 'director' | 'ipvs' | 'tunnel' | 'realserver' | 'reply';
}

const FOCUS: Record<number, LessonStep['focus']> = { 1: 'director', 2: 'director', 3: 'ipvs', 4: 'tunnel', 5: 'realserver' };

/** The lesson of a forwarding method's step list (trace/steps.ts): TUN, DR or NAT. */
export function lessonFor(list: StepList): LessonStep[] {
  return list.steps.map(s => ({
    n: s.n as LessonStep['n'],
    title: s.title.charAt(0).toUpperCase() + s.title.slice(1),
    text: [s.text, s.kernel].filter(Boolean).join(' '),
    focus: FOCUS[s.n]!,
  }));
}

export const LESSON: readonly LessonStep[] = lessonFor(TUN_STEPS);

export interface LessonContext {
  step: number;
  furthest: number;
  /** Steps in the order the packet went through them since the last jump (consecutive repeats merged). */
  trail: number[];
}
export type LessonEvent = { type: 'START' } | { type: 'REACHED'; step: number } | { type: 'JUMPED'; step: number } | { type: 'STOP' };

export const lessonMachine = setup({
  types: { context: {} as LessonContext, events: {} as LessonEvent },
}).createMachine({
  id: 'lesson',
  context: { step: 0, furthest: 0, trail: [] },
  initial: 'active',
  states: {
    off: { on: { START: { target: 'active' } } },
    active: {
      on: {
        STOP: 'off',
        REACHED: {
          actions: assign(({ context, event }) => ({
            step: event.step,
            furthest: Math.max(context.furthest, event.step),
            trail: context.trail[context.trail.length - 1] === event.step ? context.trail : [...context.trail.slice(-49), event.step],
          })),
        },
        JUMPED: { actions: assign(({ event }) => ({ step: event.step, furthest: event.step, trail: event.step ? [event.step] : [] })) },
      },
    },
  },
});

export type LessonActor = ActorRefFrom<typeof lessonMachine>;
export function createLesson(): LessonActor {
  return createActor(lessonMachine).start();
}
