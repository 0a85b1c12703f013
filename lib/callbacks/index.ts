/** Status callbacks: ordered, bounded, retried delivery of a fax's events to its status_url. */
export { StatusCallbacks, CALLBACK_DEFAULTS, type CallbackOptions, type DeliveryReport } from './deliver';
export { SIGNATURE_HEADER, signBody, verifySignature } from './sign';
