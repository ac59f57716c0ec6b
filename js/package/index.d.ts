export * from './node/kelantanpay.js';
