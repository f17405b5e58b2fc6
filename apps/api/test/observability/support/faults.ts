import type { Pool } from 'pg';

export type OrderWriteFault = 'none' | 'internal' | 'serialization';

/**
 * A failing dependency for the order path: a trigger in this runtime's own database that makes
 * PostgreSQL refuse to insert orders, switched by a one-row table.
 *
 * - `internal`: an ordinary error, not worth a retry; the order is answered 500.
 * - `serialization`: SQLSTATE 40001 on every attempt; the writer retries it (each retry counted
 *   in `stampede_db_retries_total`) and then answers 409 `stock_conflict`.
 *
 * The stock is taken before the insert in the same transaction, so a refused insert rolls the
 * stock back as a real failure would, and the gate hold is compensated by the real code.
 */
export async function installOrderWriteFault(
  pool: Pool,
): Promise<{ set(fault: OrderWriteFault): Promise<void> }> {
  await pool.query(`
    CREATE TABLE test_order_write_fault (id int PRIMARY KEY CHECK (id = 1), fault text NOT NULL);
    INSERT INTO test_order_write_fault VALUES (1, 'none');
    CREATE FUNCTION test_order_write_fault() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      current_fault text;
    BEGIN
      SELECT fault INTO current_fault FROM test_order_write_fault WHERE id = 1;
      IF current_fault = 'internal' THEN
        RAISE EXCEPTION 'injected fault: the database refuses to write orders';
      ELSIF current_fault = 'serialization' THEN
        RAISE EXCEPTION 'injected fault: could not serialize access'
          USING ERRCODE = 'serialization_failure';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_order_write_fault BEFORE INSERT ON orders
      FOR EACH ROW EXECUTE FUNCTION test_order_write_fault();
  `);
  return {
    async set(fault) {
      await pool.query('UPDATE test_order_write_fault SET fault = $1 WHERE id = 1', [fault]);
    },
  };
}
