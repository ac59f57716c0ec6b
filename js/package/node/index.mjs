// Node (ES modules): the same instance as require(), so errors share one class.
import lib from './index.cjs';

export const { KelantanPay, KelantanPayError } = lib;
