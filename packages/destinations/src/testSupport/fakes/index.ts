/**
 * Local fakes of the providers, for tests here and in the server (`@switchyard/destinations/fakes`): each is a
 * real HTTP server on 127.0.0.1 that accepts the provider's documented requests and answers as it documents.
 */

export { type ReceivedRequest, type Receiver, type ReceiverHandler, startReceiver } from "../startReceiver.js";
export * from "./discordFake.js";
export * from "./hubspotFake.js";
export * from "./mailchimpFake.js";
export * from "./mailerliteFake.js";
export * from "./oauthServer.js";
export * from "./resendFake.js";
export * from "./salesforceFake.js";
export * from "./sendgridFake.js";
export * from "./slackFake.js";
