/**
 * ui/lesson.ts: the guided walkthrough of the five-step TUN flow (as LVS-TUN guides number it) as a state
 * machine. The lesson follows the packet: whenever the player reaches a record labelled with
 * a step (record.step, from world/steps.ts), the lesson moves to that step.
 */
import { assign, createActor, setup, type ActorRefFrom } from 'xstate';

export interface LessonStep {
  readonly n: 1 | 2 | 3 | 4 | 5;
  readonly title: string;
  readonly text: string;
  /** What the topology highlights during the step. */
  readonly focus: 'director' | 'ipvs' | 'tunnel' | 'realserver' | 'reply';
}

export const LESSON: readonly LessonStep[] = [
  { n: 1, title: 'The request reaches the director', focus: 'director',
    text: 'The client sends CIP → VIP. The VIP is a local address on the director, so routing says "local" and the packet climbs PREROUTING and the routing decision to INPUT, where ip_vs_in_hook waits (priority 99).' },
  { n: 2, title: 'IPVS looks up or schedules the connection', focus: 'ipvs',
    text: 'ip_vs_in_hook finds no entry for this flow, so the virtual service’s scheduler picks a real server and a connection entry is created with the tunnel transmitter bound to it.' },
  { n: 3, title: 'Encapsulation: IP-in-IP to the real server', focus: 'tunnel',
    text: 'ip_vs_tunnel_xmit wraps the untouched CIP → VIP packet in a new header DIP → RIP, protocol 4 (IPIP), and sends it out through OUTPUT and POSTROUTING like any local packet. The original is stolen.' },
  { n: 4, title: 'Decapsulation on the real server', focus: 'realserver',
    text: 'The real server receives DIP → RIP, the ipip module hands it to tunl0, which strips the outer header. The inner CIP → VIP re-enters as if received on tunl0 (rp_filter applies there) and is delivered to the socket on the VIP.' },
  { n: 5, title: 'The reply goes straight to the client', focus: 'reply',
    text: 'The real server answers VIP → CIP through its own default route. The reply never passes the director: that is what makes TUN scale, and why the director only ever sees the input half of the connection.' },
];

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
