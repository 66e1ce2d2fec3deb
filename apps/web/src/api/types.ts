/**
 * Wire shapes the views render. Dates are ISO strings and bytes base64 strings: the tRPC
 * link has no transformer. Derived from the server router so a server change breaks the build.
 */
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './router';

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export type Connection = RouterOutputs['connections']['list'][number];
export type ConnectionHealth = Connection['health'];
export type Capabilities = NonNullable<Connection['capabilities']>;
export type DestinationPage = RouterOutputs['destinations']['list'];
export type Destination = DestinationPage['items'][number];
export type DestinationDetail = RouterOutputs['destinations']['describe'];
export type BrowsePage = RouterOutputs['messages']['browse'];
export type WireMessage = BrowsePage['messages'][number];
export type DeadLetterLink = RouterOutputs['deadLetters']['list'][number];
export type RedriveTask = RouterOutputs['redrive']['start'];
export type ConsumerGroup = RouterOutputs['groups']['list'][number];
export type ConsumerGroupDetail = RouterOutputs['groups']['describe'];
export type MetricsSnapshot = RouterOutputs['metrics']['snapshot'];
export type BrowseInput = RouterInputs['messages']['browse'];
export type PublishInput = RouterInputs['messages']['publish'];
export type RedriveSelection = NonNullable<RouterInputs['redrive']['start']['selection']>;
