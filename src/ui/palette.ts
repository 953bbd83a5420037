/**
 * ui/palette.ts: Okabe-Ito colours (distinguishable with the common colour-vision
 * deficiencies), always paired with a shape or a dash so colour is never the only cue.
 */
import type { PacketKind } from './model';

export const OKABE = {
  orange: '#E69F00', sky: '#56B4E9', green: '#009E73', yellow: '#F0E442',
  blue: '#0072B2', vermillion: '#D55E00', purple: '#CC79A7', black: '#000000', grey: '#8a8a8a',
} as const;

export const KIND_COLOR: Record<PacketKind, string> = {
  request: OKABE.blue, encap: OKABE.orange, reply: OKABE.green, arp: OKABE.purple, other: OKABE.grey,
};

export const KIND_LABEL: Record<PacketKind, string> = {
  request: 'request CIP→VIP', encap: 'IPIP: DIP→RIP around CIP→VIP',
  reply: 'reply VIP→CIP', arp: 'ARP', other: 'ICMP, other',
};

export const DROP_COLOR = OKABE.vermillion;
