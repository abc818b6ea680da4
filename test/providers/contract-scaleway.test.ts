/** The provider contract suite (test/providers/contract-suite.ts) for scaleway, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('scaleway');
